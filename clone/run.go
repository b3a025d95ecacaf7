package clone

import (
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/nsichild"
)

// Request is one experiment, as the CLI asks for it.
type Request struct {
	Flags  flags.Set
	Clone3 bool // use clone3 even when clone would do
	Probes bool
	// Identity limits the report to namespace ids, kcmp and the fd tables:
	// no mounts, links, IPC objects or hostname, and no probes.
	Identity bool
	Exec     bool // add the view after the child execs
	Host     bool // run from nsinspect's own namespaces
	UserNS   bool // make the lab inside a new user namespace
	// Cgroup is the cgroup v2 directory CLONE_INTO_CGROUP puts the child
	// in, an absolute path; empty means nsinspect's own cgroup.
	Cgroup string
	Thread bool // RunUnshare: on one thread of a two-thread process

	// cgroupFD is the lab's fd on Cgroup, inherited from nsinspect
	// (labRequest.CgroupFD); 0 means the lab opens Cgroup itself.
	cgroupFD int
}

// ErrNoLab means no lab could be made: no privilege for namespaces and no
// unprivileged user namespaces.
var ErrNoLab = errors.New("cannot create the lab's namespaces")

// ErrNoCgo is what Run, RunUnshare and RunMatrix return in a build
// without cgo: the experiment's parent and child are C (internal/nsichild).
var ErrNoCgo = nsichild.ErrNoCgo

// Run carries out one experiment: in a lab unless req.Host. The report
// holds the kernel's refusal, if any; err is for everything else. The lab
// may still be tearing the experiment down when Run returns: call Reap
// before the process exits.
func Run(req Request) (*report.Clone, error) {
	if err := req.needs(opClone, req.Flags); err != nil {
		return nil, err
	}
	if req.Flags.Has(unix.CLONE_INTO_CGROUP) && req.Cgroup == "" {
		dir, err := OwnCgroupDir()
		if err != nil {
			return nil, err
		}
		req.Cgroup = dir
	}
	if req.Host {
		var rep *report.Clone
		err := onHost(func() (err error) { rep, err = experimentReport(req, "host"); return })
		return rep, err
	}
	var rep report.Clone
	if err := runLab(wire(opClone, req, nil), &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// RunUnshare carries out one unshare(2) experiment, in a lab unless Host.
func RunUnshare(req Request) (*report.Unshare, error) {
	if err := req.needs(opUnshare, req.Flags); err != nil {
		return nil, err
	}
	if req.Host {
		var rep *report.Unshare
		err := onHost(func() (err error) { rep, err = unshareReport(req, "host"); return })
		return rep, err
	}
	var rep report.Unshare
	if err := runLab(wire(opUnshare, req, nil), &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

// RunMatrix runs one experiment per flag set of sets, all in one lab (or
// on the host), and returns one report each, in order.
func RunMatrix(req Request, sets []flags.Set) ([]*report.Clone, error) {
	var all flags.Set
	for _, s := range sets {
		all |= s
	}
	if err := req.needs(opMatrix, all); err != nil {
		return nil, err
	}
	if req.Host {
		var reps []*report.Clone
		err := onHost(func() (err error) { reps, err = matrixReports(req, sets, "host"); return })
		return reps, err
	}
	var reps []*report.Clone
	if err := runLab(wire(opMatrix, req, sets), &reps); err != nil {
		return nil, err
	}
	return reps, nil
}

// onHost runs an experiment from nsinspect's own process. Orphans of the
// experiment (the child, once its parent died) come back to us to be
// reaped rather than to init, and the goroutine stays on the thread that
// spawned the parent, whose death the parent's PDEATHSIG watches.
func onHost(fn func() error) error {
	if err := nsichild.Supported(); err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("becoming a subreaper for the experiment: %w", err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	return fn()
}

// release is the running kernel's, for the one expectation that depends
// on it; an unreadable release is older than every kernel.
func release() flags.Release {
	v, _ := features.Version(features.Kernel().Release)
	return flags.Release(v)
}
