package tracer

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/namespaces"
)

// Kind is what happened.
type Kind int

// The kinds of event, as bpf/nst.h numbers them.
const (
	Fork    Kind = 1 // a new task: fork, vfork, clone, clone3, a kernel thread or worker
	Unshare Kind = 2 // unshare(2) returned
	Setns   Kind = 3 // setns(2) returned
	// Exit: the last thread of a followed process exited (Options.Follow
	// only; A names it, Status and Freed say how it ended and what died
	// with it). It also tells trace when the followed processes are all
	// gone.
	Exit Kind = 4
	// forkFailed is bpf/nst.h's NST_FORK_FAILED, decoded as a Fork with
	// Errno and Syscall set and no B.
	forkFailed Kind = 5
	// Exec: an execve(2) or execveat(2) that succeeded; A is the caller
	// entering it, B the caller running the new program (its TID is the
	// leader's when another thread exec'd).
	Exec Kind = 6
	// Death: the kernel freed a namespace (NSType, NS) that an earlier
	// event of this run named. A and B are empty: the free runs in
	// whatever context dropped the last reference (a kworker for net and
	// user namespaces, an RCU callback), which is no caller.
	Death Kind = 7
)

// The calls a failed fork names, as bpf/nst.h's enum nst_syscall numbers
// them (1 to 4).
var forkSyscalls = []string{1: "clone", 2: "clone3", 3: "fork", 4: "vfork"}

func (k Kind) String() string {
	switch k {
	case Fork:
		return "fork"
	case Unshare:
		return "unshare"
	case Setns:
		return "setns"
	case Exit:
		return "exit"
	case Exec:
		return "exec"
	case Death:
		return "death"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// NLinks is len(namespaces.Links): the namespace slots of a Task.
const NLinks = 10

// NSRef names a namespace by inode number and, on kernels whose struct
// ns_common has one (6.18+), by id. Ino 0: none.
type NSRef struct {
	Ino uint64
	ID  uint64
}

// Task is one task at one instant. PIDs are numbers in this process's pid
// namespace.
type Task struct {
	TGID, TID int
	Comm      string
	Flags     uint32 // task->flags
	Threads   int    // threads in its group (signal->nr_threads)
	// NS per namespaces.Links entry.
	NS [NLinks]NSRef
	// Obj are this run's ids of the task's objects, 0 for a NULL pointer.
	Obj [taskobj.Count]uint64
}

// The task->flags bits the events name.
const (
	PFKthread  = 0x00200000 // PF_KTHREAD
	PFIOWorker = 0x00000010 // PF_IO_WORKER (the same bit since 5.5)
)

// FDKind is what a setns(2) fd was when the call began.
type FDKind int

// The kinds, as bpf/nst.h numbers them.
const (
	FDNone  FDKind = 0 // not an open fd
	FDNSFS  FDKind = 1 // a namespace file
	FDOther FDKind = 2 // anything else: a pidfd if the call succeeded
)

// Event is one fork, unshare or setns.
type Event struct {
	Kind Kind
	// Boottime is when it happened, ns since boot (CLOCK_BOOTTIME).
	Boottime uint64
	// Flags are the clone flags (without the exit signal), the unshare
	// flags, or setns's nstype.
	Flags uint64
	// Errno is the failure of the fork, unshare or setns, 0 on success.
	// A failed fork made no task: B is zero.
	Errno unix.Errno
	// Syscall is the call a failed fork was: clone, clone3, fork or
	// vfork ("" for one that made a task: one tracepoint sees them all).
	Syscall string
	// ExitSignal is a new task's exit signal (a failed fork's: the one
	// asked for).
	ExitSignal int
	// setns: the fd, what it was, and for an nsfs fd the namespace; for
	// a pidfd on success, the process it names (0 when not visible).
	FD     int
	FDKind FDKind
	FDType namespaces.Type
	FDNS   NSRef
	Target int
	// UserWorker is PF_USER_WORKER on this kernel (6.4+), 0 where it has
	// none.
	UserWorker uint32
	// A is the caller (before the call, for unshare and setns); B the new
	// task, or the caller after the call. For Exit, A is the process
	// (its TGID, the last thread's TID and comm).
	A, B Task
	// Exit: the process's wait status (wait(2): its last thread's
	// exit_code), and the objects it was the last holder of, which die
	// with it.
	Status int
	Freed  []taskobj.Object
	// Death: the namespace freed.
	NSType namespaces.Type
	NS     NSRef
}

// decode reads one ring buffer record. An exit record forgets the ids of
// the objects it freed, and is an event only when it ends a followed
// process: otherwise decode returns nil, nil.
func (t *Tracer) decode(b []byte) (*Event, error) {
	if len(b) >= 4 {
		switch *(*uint32)(unsafe.Pointer(unsafe.SliceData(b))) {
		case uint32(Exit):
			return t.exited(b)
		case inumFreed:
			return t.inumFreed(b)
		}
	}
	var r traceNstEvent
	if len(b) < int(unsafe.Sizeof(r)) {
		return nil, fmt.Errorf("tracer event of %d bytes, want %d", len(b), unsafe.Sizeof(r))
	}
	r = *(*traceNstEvent)(unsafe.Pointer(unsafe.SliceData(b)))
	e := &Event{
		Kind: Kind(r.Kind), Boottime: r.Ktime, Flags: r.Flags, ExitSignal: int(r.ExitSignal),
		FD: int(r.Fd), FDKind: FDKind(r.FdKind), FDType: namespaces.Type(r.FdNsType),
		FDNS: NSRef{Ino: uint64(r.FdNsInum), ID: r.FdNsId}, Target: int(r.Target),
		UserWorker: r.UserWorkerFlag,
	}
	switch e.Kind {
	case Fork, Unshare, Setns, Exec:
	case forkFailed:
		if int(r.Syscall) >= len(forkSyscalls) || forkSyscalls[r.Syscall] == "" {
			return nil, fmt.Errorf("tracer: a failed fork of unknown system call %d", r.Syscall)
		}
		e.Kind, e.Syscall = Fork, forkSyscalls[r.Syscall]
	default:
		return nil, fmt.Errorf("tracer event of unknown kind %d", r.Kind)
	}
	if r.Ret < 0 {
		e.Errno = unix.Errno(-r.Ret)
	}
	e.A = t.task(&r.A)
	if e.Syscall == "" {
		e.B = t.task(&r.B)
	}
	if e.FDKind == FDNSFS && e.FDNS.Ino != 0 {
		t.names.learn(uint32(e.FDNS.Ino), e.FDType, e.FDNS.ID)
	}
	return e, nil
}

// inumFreed is bpf/nst.h's NST_INUM_FREED: proc_free_inum() ran.
const inumFreed = 7

// inumFreed reads a freed proc inode number: the death of a namespace
// when an event of this run named one by it (its last, since its death
// is when the number is freed), nothing otherwise (a /proc entry's, or a
// namespace the run never met).
func (t *Tracer) inumFreed(b []byte) (*Event, error) {
	var r traceNstInumFreed
	if len(b) < int(unsafe.Sizeof(r)) {
		return nil, fmt.Errorf("tracer inode record of %d bytes, want %d", len(b), unsafe.Sizeof(r))
	}
	r = *(*traceNstInumFreed)(unsafe.Pointer(unsafe.SliceData(b)))
	n, ok := t.names.forget(r.Inum)
	if !ok || r.Ktime <= n.seededUntil {
		// Freed before the seeding pass ended: the death of the
		// namespace the pass found, or of one that had the number
		// before it, which cannot be told apart.
		return nil, nil
	}
	return &Event{Kind: Death, Boottime: r.Ktime, NSType: n.typ, NS: NSRef{Ino: uint64(r.Inum), ID: n.id}}, nil
}

// exited reads an exit record.
func (t *Tracer) exited(b []byte) (*Event, error) {
	var r traceNstExited
	if len(b) < int(unsafe.Sizeof(r)) {
		return nil, fmt.Errorf("tracer exit record of %d bytes, want %d", len(b), unsafe.Sizeof(r))
	}
	r = *(*traceNstExited)(unsafe.Pointer(unsafe.SliceData(b)))
	var freed []taskobj.Object
	for i, h := range r.Freed {
		if h != 0 {
			t.ids[i].forget(h)
			freed = append(freed, taskobj.Object(i))
		}
	}
	if r.Followed == 0 {
		return nil, nil
	}
	return &Event{Kind: Exit, Boottime: r.Ktime, A: Task{TGID: int(r.Tgid), TID: int(r.Tid), Comm: cString(r.Comm[:])}, Status: int(r.ExitCode), Freed: freed}, nil
}

func (t *Tracer) task(r *traceNstTask) Task {
	k := Task{TGID: int(r.Tgid), TID: int(r.Tid), Flags: r.Flags, Threads: int(r.Threads)}
	k.Comm = cString(r.Comm[:])
	for i := range k.NS {
		k.NS[i] = NSRef{Ino: uint64(r.NsInum[i]), ID: r.NsId[i]}
		if r.NsInum[i] != 0 {
			t.names.learn(r.NsInum[i], namespaces.Links[i].Type, r.NsId[i])
		}
	}
	for i := range k.Obj {
		k.Obj[i] = t.id(taskobj.Object(i), r.Obj[i])
	}
	return k
}

// id renumbers a keyed hash as this run's small id of its kind.
func (t *Tracer) id(o taskobj.Object, h uint64) uint64 { return t.ids[o].id(h) }

// cString is a NUL-terminated C char array as a string.
func cString(c []int8) string {
	n := 0
	for n < len(c) && c[n] != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(c))), n))
}
