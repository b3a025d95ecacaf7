package clone

import (
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
)

// needs returns, before any process is made, a *features.MissingError
// (exit 4, naming the interface and the kernel that added it) for the
// first kernel interface the request needs that this kernel lacks. An
// interface the probe could not decide on is left to the kernel to judge
// when the call is made.
func (req Request) needs() error {
	flags := req.Flags
	for _, f := range req.Matrix {
		flags |= f
	}
	checks := []struct {
		need bool
		id   features.ID
		what func() string
	}{
		{true, features.CloseRange, func() string { return "the experiment's C parent (it closes the fds it inherits from nsinspect)" }},
		{req.Op != opNameUnshare && (flags.NeedsClone3() || req.Clone3), features.Clone3, func() string { return "an experiment with " + clone3Reason(flags, req.Clone3) }},
		{flags.Has(unix.CLONE_NEWTIME), features.TimeNamespaces, func() string { return "an experiment with CLONE_NEWTIME" }},
		{flags.Has(unix.CLONE_CLEAR_SIGHAND), features.CloneClearSighand, func() string { return "this experiment" }},
		{flags.Has(unix.CLONE_INTO_CGROUP), features.CloneIntoCgroup, func() string { return "this experiment" }},
	}
	for _, c := range checks {
		if !c.need {
			continue
		}
		if err := features.Missing(c.id, c.what()); err != nil {
			return err
		}
	}
	return nil
}

// clone3Reason names what makes the request need clone3(2).
func clone3Reason(flags FlagSet, forced bool) string {
	var names []string
	for _, f := range Flags {
		if f.Clone3 && flags.Has(f.Value) {
			names = append(names, f.Name)
		}
	}
	if len(names) == 0 && forced {
		return "--clone3"
	}
	out := names[0]
	for _, n := range names[1:] {
		out += "|" + n
	}
	return out
}
