package inspect

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/sharing"
)

// RefusedRows is exit 4 for a comparison whose rows the kernel refused
// (printed as "?" with why): the report is not a clean answer.
func RefusedRows(r *sharing.Report) error {
	var names []string
	for _, res := range r.Resources {
		if res.Refused {
			names = append(names, res.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return Privilegef("compare: %d of %d resources could not be compared (%s): %s", len(names), len(r.Resources),
		strings.Join(names, " "), procinfo.DeniedHint("reading the tasks' namespaces and kcmp(2)"))
}

// ExpectOutcome classifies a run by its unmet expectations (the caller
// prints one line per violation): 1 when each was checked and does not hold; 4 when some could not
// be checked because the kernel refused the reads; 5 when some could not
// be decided otherwise, or when violations come with either.
func ExpectOutcome(vs []sharing.Violation) error {
	var violated, refused, undecided int
	for _, v := range vs {
		switch {
		case v.Got != nil:
			violated++
		case v.Refused:
			refused++
		default:
			undecided++
		}
	}
	unchecked := refused + undecided
	switch {
	case unchecked > 0 && (violated > 0 || undecided > 0):
		return Undecidedf(nil, "--expect: %d expectation(s) could not be decided and %d do not hold (see above)", unchecked, violated)
	case refused > 0:
		return Privilegef("--expect: %d expectation(s) could not be checked: %s", refused, procinfo.DeniedHint("reading the tasks' namespaces and kcmp(2)"))
	case violated > 0:
		return Assertionf("")
	}
	return nil
}

// ParseExpect parses compare's --expect (several flags joined by ","):
// nil for none.
func ParseExpect(expect []string) ([]sharing.Expectation, error) {
	if len(expect) == 0 {
		return nil, nil
	}
	exp, err := sharing.ParseExpect(strings.Join(expect, ","))
	if err != nil {
		return nil, BadInputf("--expect: %v", err)
	}
	return exp, nil
}

// CompareOutcome is a printed comparison's exit: with expectations, the
// violations (for stderr, one line each) and ExpectOutcome; without,
// RefusedRows.
func CompareOutcome(r *sharing.Report, exp []sharing.Expectation) ([]sharing.Violation, error) {
	if exp == nil {
		return nil, RefusedRows(r)
	}
	vs := r.Check(exp)
	return vs, ExpectOutcome(vs)
}

// CompareTasks is what `compare --json` prints (and /api/compare
// answers): the two tasks pinned and compared, with their containers and,
// with kernel, BPF's reading of their task_structs.
func CompareTasks(argA, argB string, kernel bool) (Compare, error) {
	// Both arguments are checked before either is opened, so a typo in B
	// is reported as such and not after a lookup of A.
	for _, arg := range []string{argA, argB} {
		if _, err := ParseTarget(arg); err != nil {
			return Compare{}, err
		}
	}
	a, err := openTask(argA)
	if err != nil {
		return Compare{}, err
	}
	defer a.Close()
	b, err := openTask(argB)
	if err != nil {
		return Compare{}, err
	}
	defer b.Close()

	r, err := sharing.Compare(a, b)
	if err != nil {
		if errors.Is(err, procinfo.ErrProcessGone) {
			return Compare{}, Undecidedf(err, "%v: it exited during the comparison, so nothing is reported (run again on a live task)", err)
		}
		return Compare{}, fmt.Errorf("comparing %s and %s: %w", argA, argB, err)
	}
	if err := addContainers(r, a, b); err != nil {
		return Compare{}, err
	}
	notePodSharing(r)
	if r.FDError == "" {
		// Both fd tables could be listed: name each task's sockets in
		// other network namespaces (best-effort, as the fd rows).
		r.A.OtherNetSockets = otherNetSocketsOf(a)
		r.B.OtherNetSockets = otherNetSocketsOf(b)
	}
	out := Compare{Report: r}
	if kernel {
		if out.Kernel, err = kernelWitness(r, a, b); err != nil {
			return Compare{}, err
		}
	}
	return out, nil
}

// addContainers names the container each task runs in. The cgroup files
// are read through the pins, so a task that exited meanwhile is an error,
// never another process's container.
func addContainers(r *sharing.Report, a, b *procinfo.Proc) error {
	var names ContainerNames
	var err error
	if r.A.Container, err = names.Of(a); err == nil {
		r.B.Container, err = names.Of(b)
	}
	if errors.Is(err, procinfo.ErrProcessGone) {
		return Undecidedf(err, "%v: it exited during the comparison, so nothing is reported (run again on a live task)", err)
	}
	return err
}

// openTask resolves and pins a target (Resolve) with the engine's
// default timeout.
func openTask(arg string) (*procinfo.Proc, error) {
	r, err := Resolve(context.Background(), arg, engine.Timeout)
	if err != nil {
		return nil, err
	}
	return r.Proc, nil
}

// otherNetSocketsOf is OtherNetSockets against the task's own net link;
// nil where either cannot be read.
func otherNetSocketsOf(p *procinfo.Proc) []sharing.SocketNet {
	net, err := p.Namespace("net")
	if err != nil {
		return nil
	}
	socks, _ := OtherNetSockets(p, net)
	return socks
}
