package clone

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/internal/nsichild"
	"github.com/nsinspect/nsinspect/procinfo"
)

// pair is a running experiment: the parent the zygote forked and the
// child its clone call made, both parked and pinned.
type pair struct {
	z       *nsichild.Zygote // forked the parent; reaps the experiment
	flags   flags.Set
	syscall string // "clone" or "clone3"
	parent  *nsichild.Side
	child   *nsichild.Side

	parentPID int // in the caller's pid namespace
	childPID  int // thread group of the child (parentPID under CLONE_THREAD)
	childTID  int // the child task itself

	parentProc *procinfo.Proc
	childProc  *procinfo.Proc

	vforkSuspended bool // the parent is still inside clone(CLONE_VFORK)
	parentPidfd    int  // CLONE_PIDFD: the fd number in the parent's table
}

// CallError is a clone call the kernel refused.
type CallError struct {
	Flags   flags.Set
	Syscall string
	Errno   syscall.Errno
}

func (e *CallError) Error() string {
	return fmt.Sprintf("%s(%s) failed: %s (%v)", e.Syscall, e.Flags, flags.ErrnoName(e.Errno), e.Errno)
}

func (e *CallError) Unwrap() error { return e.Errno }

// startPair makes the experiment: spawns the parent, has it make the clone
// call, waits for the child, and pins both. A refused call is a
// *CallError. On any error nothing is left running.
func startPair(z *nsichild.Zygote, fs flags.Set, forceClone3 bool, cgroupFD int) (*pair, error) {
	p, err := spawnPair(z, fs, forceClone3, cgroupFD)
	if err != nil {
		return nil, err
	}
	if err := p.cloneChild(); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// spawnPair makes and pins the experiment's parent, ready to make its
// clone call (cloneChild) with fs.
func spawnPair(z *nsichild.Zygote, fs flags.Set, forceClone3 bool, cgroupFD int) (*pair, error) {
	e := nsichild.Experiment{Flags: uint64(fs), ExitSignal: int(unix.SIGCHLD), Clone3: forceClone3 || fs.NeedsClone3(), CgroupFD: cgroupFD}
	if e.Clone3 && (fs.Has(unix.CLONE_THREAD) || fs.Has(unix.CLONE_PARENT)) {
		e.ExitSignal = 0 // clone3 refuses an exit signal with THREAD or PARENT
	}
	p := &pair{z: z, flags: fs, syscall: "clone", parentPidfd: -1}
	if e.Clone3 {
		p.syscall = "clone3"
	}
	var pe, ce [2]*os.File // the ends the C side keeps
	var err error
	if p.parent, pe, err = nsichild.NewSide("parent"); err != nil {
		return nil, err
	}
	if p.child, ce, err = nsichild.NewSide("child"); err != nil {
		p.parent.Close()
		closeAll(pe[:])
		return nil, err
	}
	ends := [4]*os.File{pe[0], pe[1], ce[0], ce[1]}
	pid, pidfd, err := z.Spawn(e, ends)
	closeAll(ends[:])
	if err != nil {
		p.parent.Close()
		p.child.Close()
		return nil, err
	}
	p.parentPID = pid
	// The zygote's pidfd stays open until ours is: the parent is the
	// zygote's unreaped child, so its pid cannot be reused in between.
	err = p.ready()
	unix.Close(pidfd)
	if err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		if f != nil {
			f.Close()
		}
	}
}

// ready pins the parent and prepares it for the clone call.
func (p *pair) ready() error {
	var err error
	if p.parentProc, err = procinfo.Open(p.parentPID); err != nil {
		return fmt.Errorf("pinning the experiment's parent: %w", err)
	}
	hello, err := p.parent.Recv(nsichild.RequestTimeout)
	if err != nil {
		return err
	}
	// The parent gave itself an io_context and a SysV undo list before
	// saying hello (nsi_parent_main), so that CLONE_IO and CLONE_SYSVSEM
	// have something to share and kcmp compares real objects.
	if hello.Ret < 0 {
		return fmt.Errorf("allocating the parent's io_context and SysV undo list (ioprio_set, semop SEM_UNDO): %w", syscall.Errno(-hello.Ret))
	}
	return nil
}

// cloneChild has the parent make its clone call and waits for the
// outcome. Under CLONE_VFORK the parent's reply only comes when the child
// exits, so the child's hello is awaited in parallel with it.
func (p *pair) cloneChild() error {
	if err := p.parent.Send(nsichild.OpClone, 0, ""); err != nil {
		return err
	}
	type result struct {
		r   nsichild.Reply
		err error
	}
	parentDone := make(chan result, 1)
	go func() {
		r, err := p.parent.Recv(nsichild.RequestTimeout)
		parentDone <- result{r, err}
	}()
	childHello := make(chan error, 1)
	go func() {
		r, err := p.child.Recv(nsichild.RequestTimeout)
		if err == nil && r.Ret < 0 {
			// nsi_child_main's ioprio_set and semop SEM_UNDO (see
			// decided, in experiment.go).
			err = fmt.Errorf("allocating the child's io_context and SysV undo list (ioprio_set, semop SEM_UNDO): %w", syscall.Errno(-r.Ret))
		}
		childHello <- err
	}()
	select {
	case res := <-parentDone:
		if res.err != nil {
			return res.err
		}
		if res.r.Ret < 0 {
			return &CallError{Flags: p.flags, Syscall: p.syscall, Errno: syscall.Errno(-res.r.Ret)}
		}
		p.parentPidfd = int(res.r.Aux)
		if err := <-childHello; err != nil {
			return err
		}
		if err := p.locateChild(res.r.Ret); err != nil {
			return err
		}
	case err := <-childHello:
		if err != nil {
			return err
		}
		if p.flags.Has(unix.CLONE_VFORK) {
			// The parent stays inside clone until the child exits or
			// execs, and ours parks: find the child from /proc.
			p.vforkSuspended = true
			if err := p.locateChild(0); err != nil {
				return err
			}
			go func() { <-parentDone }() // the reply comes when the child exits
			break
		}
		res := <-parentDone
		if res.err != nil {
			return res.err
		}
		if res.r.Ret < 0 {
			return fmt.Errorf("experiment's parent reported %v after its child started", syscall.Errno(-res.r.Ret))
		}
		p.parentPidfd = int(res.r.Aux)
		if err := p.locateChild(res.r.Ret); err != nil {
			return err
		}
	}
	return p.pinChild()
}

// locateChild finds the child's tid as this process numbers it. What the
// clone call returned (ret, 0 if unknown) is the child's pid in the
// parent's pid namespace, which is not ours when the parent is in a lab:
// the child is found in /proc instead, and ret checked against its NSpid
// at the parent's level.
func (p *pair) locateChild(ret int64) error {
	tid, err := p.findChild()
	if err != nil {
		return err
	}
	if ret > 0 {
		if err := p.checkNSpid(tid, int(ret)); err != nil {
			return err
		}
	}
	p.childTID = tid
	return nil
}

// checkNSpid verifies that task tid is the one the parent's clone call
// returned as ret: its pid at the depth of the parent's pid namespace.
func (p *pair) checkNSpid(tid, ret int) error {
	pst, err := p.parentProc.Status()
	if err != nil {
		return fmt.Errorf("reading the experiment parent's status: %w", err)
	}
	path := strconv.Itoa(tid)
	if p.flags.Has(unix.CLONE_THREAD) {
		path = strconv.Itoa(p.parentPID) + "/task/" + path
	}
	b, err := os.ReadFile(procinfo.Root + "/" + path + "/status")
	if err != nil {
		return fmt.Errorf("reading the experiment child's status: %w", err)
	}
	st, err := procinfo.ParseStatus(bytes.NewReader(b))
	if err != nil {
		return err
	}
	depth := len(pst.NSpid) - 1
	if depth < 0 || depth >= len(st.NSpid) || st.NSpid[depth] != ret {
		return fmt.Errorf("the experiment's parent cloned pid %d, but task %d has NSpid %v", ret, tid, st.NSpid)
	}
	return nil
}

// findChild locates the child the parent's one clone call made: a thread
// of the parent under CLONE_THREAD, else a child of the parent (or of the
// zygote, under CLONE_PARENT) that is not the parent itself.
func (p *pair) findChild() (int, error) {
	var names []string
	var err error
	switch {
	case p.flags.Has(unix.CLONE_THREAD):
		names, err = p.parentProc.ReadDirNames("task")
	case p.flags.Has(unix.CLONE_PARENT):
		// The child's parent is the parent's: the zygote.
		var z *procinfo.Proc
		if z, err = procinfo.Open(p.z.PID()); err == nil {
			names, err = childrenOf(z)
			z.Close()
		}
	default:
		names, err = childrenOf(p.parentProc)
	}
	if err != nil {
		return 0, fmt.Errorf("finding the experiment's child: %w", err)
	}
	for _, n := range names {
		if pid, _ := strconv.Atoi(n); pid > 0 && pid != p.parentPID {
			return pid, nil
		}
	}
	return 0, errors.New("finding the experiment's child: it is in no children list")
}

// childrenOf lists the children of every thread of a pinned process.
func childrenOf(p *procinfo.Proc) ([]string, error) {
	tasks, err := p.ReadDirNames("task")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range tasks {
		if b, err := p.ReadFile("task/" + t + "/children"); err == nil {
			out = append(out, strings.Fields(string(b))...)
		}
	}
	return out, nil
}

func (p *pair) pinChild() error {
	var err error
	if p.flags.Has(unix.CLONE_THREAD) {
		p.childPID = p.parentPID
		p.childProc, err = procinfo.OpenTask(p.parentPID, p.childTID)
	} else {
		p.childPID = p.childTID
		p.childProc, err = procinfo.Open(p.childTID)
	}
	if err != nil {
		return fmt.Errorf("pinning the experiment's child %d: %w", p.childTID, err)
	}
	return nil
}

// stop ends the experiment: asks both sides to exit, then has the zygote
// SIGKILL and reap everything the experiment made (the parent, and the
// child, which is the zygote's under CLONE_PARENT or once orphaned).
func (p *pair) stop() {
	p.child.Send(nsichild.OpExit, 0, "")
	p.parent.Send(nsichild.OpExit, 0, "")
	p.z.Reap()
	p.parentProc.Close()
	p.childProc.Close()
	p.parent.Close()
	p.child.Close()
}
