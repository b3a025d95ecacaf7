package clone

import (
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/features"
)

// needs returns, before any process is made, a *features.MissingError
// (exit 4, naming the interface and the kernel that added it) for the
// first kernel interface the experiment op with the flags all needs that
// this kernel lacks. An interface the probe could not decide on is left
// to the kernel to judge when the call is made.
func (req Request) needs(op string, all flags.Set) error {
	checks := []struct {
		need bool
		id   features.ID
		what func() string
	}{
		{true, features.CloseRange, func() string { return "the experiment's C parent (it closes the fds it inherits from nsinspect)" }},
		{op != opUnshare && (all.NeedsClone3() || req.Clone3), features.Clone3, func() string { return "an experiment with " + all.Clone3Reason(req.Clone3) }},
		{all.Has(unix.CLONE_NEWTIME), features.TimeNamespaces, func() string { return "an experiment with CLONE_NEWTIME" }},
		{all.Has(unix.CLONE_CLEAR_SIGHAND), features.CloneClearSighand, func() string { return "this experiment" }},
		{all.Has(unix.CLONE_INTO_CGROUP), features.CloneIntoCgroup, func() string { return intoCgroupNeed(req.Cgroup) }},
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

func intoCgroupNeed(dir string) string {
	if dir == "" {
		return "this experiment"
	}
	return "--cgroup " + dir
}
