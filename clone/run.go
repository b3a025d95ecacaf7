package clone

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"

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
	// lab names the namespaces of the lab the experiment runs in (see
	// labTypes); nil on the host.
	lab []string
}

// ErrNoLab means no lab could be made: no privilege for namespaces and no
// unprivileged user namespaces.
var ErrNoLab = errors.New("cannot create the lab's namespaces")

// ErrNoCgo is what Run, RunUnshare and RunMatrix return in a build
// without cgo: the experiment's parent and child are C (internal/nsichild).
var ErrNoCgo = nsichild.ErrNoCgo

// Run carries out one experiment: in a lab unless req.Host. The report
// holds the kernel's refusal, if any; err is for everything else. The
// experiment may still be torn down when Run returns: call Reap before
// the process exits.
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
	w := wire(opClone, req, nil)
	if !req.direct() {
		var rep report.Clone
		if err := runLab(w, &rep); err != nil {
			return nil, err
		}
		return &rep, nil
	}
	if !req.Host {
		req.lab = labTypes(w)
	}
	var rep *report.Clone
	err := withZygote(w, req.Host, func(z *nsichild.Zygote, mode string) (stop func(), err error) {
		rep, stop, err = runExperiment(req, mode, z)
		return stop, err
	})
	return rep, err
}

// RunUnshare carries out one unshare(2) experiment, in a lab unless Host.
func RunUnshare(req Request) (*report.Unshare, error) {
	if err := req.needs(opUnshare, req.Flags); err != nil {
		return nil, err
	}
	w := wire(opUnshare, req, nil)
	if !req.direct() {
		var rep report.Unshare
		if err := runLab(w, &rep); err != nil {
			return nil, err
		}
		return &rep, nil
	}
	var rep *report.Unshare
	err := withZygote(w, req.Host, func(z *nsichild.Zygote, mode string) (func(), error) {
		var err error
		rep, err = unshareReport(req, mode, z)
		return nil, err
	})
	return rep, err
}

// RunMatrix runs one experiment per flag set of sets and returns one
// report each, in order. A root nsinspect runs them on a few labs at once
// (matrixWorkers), each lab's experiments one after the other; a lab in a
// new user namespace runs them all, one by one.
func RunMatrix(req Request, sets []flags.Set) ([]*report.Clone, error) {
	var all flags.Set
	for _, s := range sets {
		all |= s
	}
	if err := req.needs(opMatrix, all); err != nil {
		return nil, err
	}
	w := wire(opMatrix, req, sets)
	if !req.direct() {
		var reps []*report.Clone
		if err := runLab(w, &reps); err != nil {
			return nil, err
		}
		return reps, nil
	}
	if !req.Host {
		req.lab = labTypes(w)
	}
	return matrixParallel(req, sets, matrixWorkers(len(sets)), func() (*nsichild.Zygote, string, error) {
		return startZygote(w, req.Host)
	})
}

// direct reports whether req's experiment is inspected from this process:
// with --host, or in a lab that a root nsinspect makes. A lab in a new
// user namespace is inspected from inside it, by a Go lab (runLab): only
// there does an unprivileged nsinspect hold the capabilities that reading
// and setns-ing into the experiment's processes need.
func (req Request) direct() bool { return req.Host || (!req.UserNS && os.Geteuid() == 0) }

// withZygote starts the zygote for w (a lab's PID 1, or on the host) and
// runs fn, which forks its experiments from it. What fn leaves running
// (its stop) and the zygote are ended after the report is out: Reap waits
// for them. The thread that starts the zygote is locked meanwhile, since
// the zygote's PDEATHSIG watches that thread.
func withZygote(w labRequest, host bool, fn func(z *nsichild.Zygote, mode string) (stop func(), err error)) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	z, mode, err := startZygote(w, host)
	if err != nil {
		return err
	}
	stop, err := fn(z, mode)
	end := func() {
		if stop != nil {
			stop()
		}
		z.Close()
	}
	if err != nil {
		end()
		return err
	}
	tearingDown.Go(end)
	return nil
}

// startZygote starts the zygote an experiment's parents are forked from:
// on the host, or as PID 1 of a fresh lab (labFlags). The lab's processes
// are inspected from nsinspect's own namespaces, through its /proc, so
// the report numbers them as nsinspect sees them.
func startZygote(w labRequest, host bool) (*nsichild.Zygote, string, error) {
	attr := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if host {
		z, err := nsichild.StartZygote(nsichild.ZygoteHost, attr)
		if err != nil {
			return nil, "", fmt.Errorf("starting the experiment's zygote: %w", err)
		}
		return z, "host", nil
	}
	attr.Cloneflags = labFlags(w)
	z, err := nsichild.StartZygote(nsichild.ZygoteLab, attr)
	if errors.Is(err, nsichild.ErrStart) {
		return nil, "", fmt.Errorf("%w: %v (run as root, or enable unprivileged user namespaces: sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)", ErrNoLab, err)
	}
	if err != nil {
		return nil, "", fmt.Errorf("the lab failed: %w", err)
	}
	return z, "lab", nil
}

// release is the running kernel's, for the one expectation that depends
// on it; an unreadable release is older than every kernel.
func release() flags.Release {
	v, _ := features.Version(features.Kernel().Release)
	return flags.Release(v)
}
