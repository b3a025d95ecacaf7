package inspect

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/procinfo"
)

// The kernel views (show, fds and compare with --kernel) read
// task_struct with BPF. This file holds what they share: loading the iterators, finding
// the pinned task among the kernel's, and show's list of the task's
// kernel objects with the tasks that share each.

// KernelNote is said with every list of object ids.
const KernelNote = "ids are task_struct pointers as BPF read them, numbered per run (never the address): equal ids mean one kernel object, and mean nothing outside this run"

// KernelError turns a failure to run BPF into what the user sees: exit 4
// with the reason when BPF cannot run here, the error otherwise.
func KernelError(err error) error {
	if errors.Is(err, bpfiter.ErrUnavailable) {
		return Wrap(unavailableKind(err), err, "--kernel reads kernel memory with BPF iterators, which cannot run here: %v (drop --kernel to read /proc only)", err)
	}
	return fmt.Errorf("--kernel: %w", err)
}

// nsPerTick is nanoseconds per USER_HZ tick (100 Hz on every architecture
// Linux has), the unit of /proc/PID/stat's starttime.
const nsPerTick = 1e9 / 100

// KernelTasks runs the task iterator once and returns its snapshot and
// the record of each task ps pin, in order. Each is that task exactly:
// its pidfd keeps the PID from being reused while it lives, it must
// still live after the snapshot, and the record's start_boottime must be
// its starttime (which also tells a thread from a later one with its
// TID). Starttime is shifted by our time namespace: the shift is measured
// on nsinspect's own record.
func KernelTasks(ps ...*procinfo.Proc) (*bpfiter.Snapshot, []*bpfiter.Task, error) {
	it, err := bpfiter.Load()
	if err != nil {
		return nil, nil, KernelError(err)
	}
	snap, err := it.Snapshot(false)
	it.Close()
	if err != nil {
		return nil, nil, KernelError(err)
	}
	self := findTask(snap, os.Getpid(), os.Getpid())
	if self == nil {
		return nil, nil, fmt.Errorf("the task iterator did not see nsinspect itself (pid %d): its pid numbers cannot be trusted", os.Getpid())
	}
	ours, err := procinfo.Self()
	if err != nil {
		return nil, nil, fmt.Errorf("pinning nsinspect itself: %w", err)
	}
	defer ours.Close()
	off, err := startShift(ours, self)
	if err != nil {
		return nil, nil, err
	}
	var out []*bpfiter.Task
	for _, p := range ps {
		t, err := pinnedRecord(snap, p, off)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, t)
	}
	return snap, out, nil
}

// pinnedRecord finds p's record in snap and checks it is p's (see
// KernelTasks); off is startShift.
func pinnedRecord(snap *bpfiter.Snapshot, p *procinfo.Proc, off int64) (*bpfiter.Task, error) {
	if err := p.Alive(); err != nil {
		return nil, ReadError(p, "kernel task", err)
	}
	t := findTask(snap, p.PID, p.TID)
	if t == nil {
		return nil, fmt.Errorf("the BPF task iterator did not visit task %d:%d though /proc shows it, so its kernel objects cannot be read here", p.PID, p.TID)
	}
	st, err := p.Stat()
	if err != nil {
		return nil, ReadError(p, "stat", err)
	}
	if got := int64(st.StartTime) - int64(t.StartBoottime/nsPerTick); got != off {
		return nil, BadInputf("task %d:%d started at tick %d but the kernel's task with that number at tick %d: it exited and its number was reused (run again)", p.PID, p.TID, st.StartTime, int64(t.StartBoottime/nsPerTick)+off)
	}
	return t, nil
}

// startShift is /proc's starttime minus the iterator's start_boottime, in
// ticks, for our own task: 0 outside a time namespace with a boottime
// offset.
func startShift(ours *procinfo.Proc, rec *bpfiter.Task) (int64, error) {
	st, err := ours.Stat()
	if err != nil {
		return 0, fmt.Errorf("reading /proc/self/stat: %w", err)
	}
	return int64(st.StartTime) - int64(rec.StartBoottime/nsPerTick), nil
}

func findTask(s *bpfiter.Snapshot, pid, tid int) *bpfiter.Task {
	for i := range s.Tasks {
		if t := &s.Tasks[i]; t.TGID == pid && t.TID == tid {
			return t
		}
	}
	return nil
}

// Kernel is show's "kernel" object: the task's kernel objects.
type Kernel struct {
	Source  string         `json:"source"` // "bpf"
	Note    string         `json:"note"`
	Objects []KernelObject `json:"objects"` // taskobj.All order
}

type KernelObject struct {
	Name  string `json:"name"`  // taskobj.Object.Name: "nsproxy", "files", ...
	Field string `json:"field"` // "task->files"
	// ID is the object's id in this run, 0 for a NULL pointer ("none").
	ID uint64 `json:"id"`
	// Flag is the clone(2) flag that makes a child share the object.
	Flag       string       `json:"clone_flag"`
	SharedWith []KernelTask `json:"shared_with"` // other tasks, by PID then TID
}

type KernelTask struct {
	PID  int    `json:"pid"`
	TID  int    `json:"tid"`
	Comm string `json:"comm"`
}

// cloneFlag says, per object, what makes a child share it with its
// parent (kernel/fork.c): the nsproxy is shared unless a CLONE_NEW* flag
// is given, and setns(2) and unshare(2) replace it; the credentials are
// shared only by threads.
var cloneFlag = [taskobj.Count]string{
	taskobj.NSProxy: "no CLONE_NEW*",
	taskobj.Files:   "CLONE_FILES",
	taskobj.FS:      "CLONE_FS",
	taskobj.MM:      "CLONE_VM",
	taskobj.Sighand: "CLONE_SIGHAND",
	taskobj.Signal:  "CLONE_THREAD",
	taskobj.Cred:    "CLONE_THREAD",
	taskobj.IO:      "CLONE_IO",
	taskobj.SysVSem: "CLONE_SYSVSEM",
}

// KernelObjects lists t's objects and, for each, the other tasks of s
// that point to it. Tasks outside our pid namespace (pid 0) are left out:
// they cannot be named.
func KernelObjects(s *bpfiter.Snapshot, t *bpfiter.Task) *Kernel {
	out := &Kernel{Source: "bpf", Note: KernelNote}
	for _, o := range taskobj.All() {
		j := KernelObject{Name: o.Name(), Field: o.Field(), ID: t.Obj[o], Flag: cloneFlag[o], SharedWith: []KernelTask{}}
		for i := range s.Tasks {
			u := &s.Tasks[i]
			if j.ID == 0 || u == t || u.TGID == 0 || u.Obj[o] != j.ID {
				continue
			}
			j.SharedWith = append(j.SharedWith, KernelTask{PID: u.TGID, TID: u.TID, Comm: u.Comm})
		}
		sortKernelTasks(j.SharedWith)
		out.Objects = append(out.Objects, j)
	}
	return out
}

// sortKernelTasks orders tasks by PID, then TID: the iterator walks them
// by TID, which interleaves the threads of different processes.
func sortKernelTasks(ts []KernelTask) {
	slices.SortFunc(ts, func(a, b KernelTask) int { return cmp.Or(cmp.Compare(a.PID, b.PID), cmp.Compare(a.TID, b.TID)) })
}
