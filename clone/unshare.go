package clone

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/internal/nsichild"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/sharing"
)

// unshareReport runs one unshare(2) experiment in this process: the
// caller's links before and after, and its next child's.
func unshareReport(req Request, mode string, z *nsichild.Zygote) (*report.Unshare, error) {
	rep := &report.Unshare{
		Call: report.NewCall(req.Flags, "unshare", mode), Thread: req.Thread, Links: []report.LinkChange{}, Kcmp: []report.Resource{}, Disagreements: []string{},
	}
	// The caller: the experiment's parent, or with --thread its second
	// thread, which shares everything with the leader before the call.
	var spawnFlags flags.Set
	if req.Thread {
		spawnFlags = unix.CLONE_VM | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_FILES | unix.CLONE_FS | unix.CLONE_SYSVSEM | unix.CLONE_IO
	}
	p, err := spawnPair(z, spawnFlags, false, -1)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	caller, callerProc := p.parent, p.parentProc
	if req.Thread {
		if err := p.cloneChild(); err != nil {
			return nil, fmt.Errorf("making the second thread: %w", err)
		}
		caller, callerProc = p.child, p.childProc
	}
	// Held until judged: without NS_GET_ID an inode is the identity, and a
	// namespace the call leaves must not pass its inode to a new one.
	held := namespaces.NewHolder()
	defer held.Close()
	before, err := callerProc.NamespacesHeld(held)
	if err != nil {
		return nil, err
	}
	if _, _, err := caller.Do(nsichild.OpUnshare, int32(uint32(req.Flags)), ""); err != nil {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			return nil, err
		}
		rep.Refused(errno, flags.ExplainUnshare(req.Flags, errno, req.Thread))
		return rep, nil
	}
	atCall, err := callerProc.Namespaces()
	if err != nil {
		return nil, err
	}
	if req.Thread {
		rep.Leader = snapshot(p.parentProc)
		cmp, err := sharing.Compare(p.parentProc, p.childProc)
		if err != nil {
			return nil, err
		}
		for _, r := range cmp.Resources {
			if left, ok := flags.ThreadLeaves(req.Flags, r.Name); ok {
				r = decided(r)
				exp := !left
				rep.Kcmp = append(rep.Kcmp, report.Resource{Name: r.Name, Kind: r.Kind, Shared: r.Shared, Evidence: r.Evidence, Note: r.Note,
					Expected: exp, Agree: r.Shared != nil && *r.Shared == exp})
			}
		}
	} else if err := p.nextChild(rep); err != nil {
		return nil, err
	}
	// Read again once the next child exists: a new PID namespace has no
	// pid_for_children link (ENOENT) until its first process, its init.
	after, err := callerProc.Namespaces()
	if err != nil {
		return nil, err
	}
	rep.Caller = snapshot(callerProc)
	rep.Judge(before, atCall, after)
	return rep, nil
}

// nextChild makes the caller clone a plain child and records its links:
// that is when a new PID or time namespace is first entered.
func (p *pair) nextChild(rep *report.Unshare) error {
	if err := p.cloneChild(); err != nil {
		return fmt.Errorf("making the caller's next child: %w", err)
	}
	rep.Child = snapshot(p.childProc)
	return nil
}
