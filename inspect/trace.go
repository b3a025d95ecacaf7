package inspect

import (
	"fmt"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/schema"
	"github.com/nsinspect/nsinspect/tracer"
)

// TraceEvent is one line of `trace --json` and `watch --json`: a new
// task ("fork"), an unshare(2) or a setns(2) that returned, an exec, an
// exit, a namespace's death, or the "end" line that closes every run.
type TraceEvent struct {
	SchemaVersion schema.Version `json:"schema_version"`
	Event         string         `json:"event"`
	// BoottimeNS is when it happened: ns since boot (CLOCK_BOOTTIME).
	BoottimeNS uint64 `json:"boottime_ns,omitempty"`
	// Caller made the call: for unshare and setns, as it was after the
	// call returned.
	Caller *TraceTask `json:"caller,omitempty"`
	// Child is the new task of a fork event; a failed fork has none.
	Child *TraceTask `json:"child,omitempty"`
	// Namespace is a death event's namespace: the kernel freed it.
	Namespace *TraceNS `json:"namespace,omitempty"`
	// Born are the namespaces a fork or unshare made (a type its flags
	// ask for, new on the child's or the caller's side): their birth,
	// the child (fork) or the caller (unshare) their first holder.
	Born []TraceNS `json:"born,omitempty"`
	// Status is an exit event's end of the process (trace only: a
	// followed process whose last thread exited): its exit code, or the
	// signal that killed it.
	Status *TraceStatus `json:"status,omitempty"`
	// Freed are the objects an exit event's process was the last holder
	// of ("files", "mm", "nsproxy", ...): they die with it.
	Freed []string `json:"freed,omitempty"`
	// Before is an exec event's caller as it entered execve: its comm
	// and, where a thread other than the leader exec'd, its own TID
	// (Caller has the leader's, which it took).
	Before *TraceTask `json:"before,omitempty"`
	// Syscall is the call a failed fork was: clone, clone3, fork or
	// vfork (a fork that made a task is seen at one tracepoint for all).
	Syscall string `json:"syscall,omitempty"`
	// Flags are the clone flags (without the exit signal), the unshare
	// flags, or setns's nstype, by name; Value is the number.
	Flags []string `json:"flags,omitempty"`
	Value *uint64  `json:"value,omitempty"`
	// ExitSignal is a new process's exit signal ("SIGCHLD"), "" for
	// none (a thread).
	ExitSignal string `json:"exit_signal,omitempty"`
	// Sharing is a fork event's table: for every namespace and object,
	// the parent's and the child's, and whether they are one.
	Sharing []TraceShare `json:"sharing,omitempty"`
	// Changes is an unshare or setns event's table: the caller's before
	// and after the call.
	Changes []TraceShare `json:"changes,omitempty"`
	// setns: the fd argument, what it was, and the namespace it names
	// (a namespace file) or the process (a pidfd).
	FD        *int     `json:"fd,omitempty"`
	FDKind    string   `json:"fd_kind,omitempty"`
	Entered   *TraceNS `json:"entered,omitempty"`
	TargetPID int      `json:"target_pid,omitempty"`
	Errno     string   `json:"errno,omitempty"`
	Explain   []string `json:"explanation,omitempty"`
	// The end line's fields.
	*TraceEnd
	raw       *tracer.Event  `json:"-"`
	callerWho callerIdentity // set with Caller.Container
}

// TraceTask is a task of an event. PIDs are as seen from nsinspect's pid
// namespace.
type TraceTask struct {
	PID  int    `json:"pid"`
	TID  int    `json:"tid"`
	Comm string `json:"comm"`
	// Kind is "user", "kthread" (PF_KTHREAD), "io_worker" (PF_IO_WORKER:
	// an io_uring worker) or "user_worker" (PF_USER_WORKER, 6.4+: a vhost
	// worker).
	Kind    string `json:"kind"`
	Threads int    `json:"threads"`
	// Container is the container the caller runs in (trace, watch and
	// /api/events ask the engines once per pid and mount namespace pair);
	// nil on the host, for a child, and where no engine claims it.
	Container *TraceContainer `json:"container,omitempty"`
}

// born are the namespaces r made: of a type r's flags ask for, on the
// side after the call (the child of a fork, the caller after unshare) and
// not on the side before. pid_for_children and time_for_children count
// (unshare(CLONE_NEWPID) makes the namespace of the caller's children);
// one namespace on two links is one birth.
func born(r *tracer.Event) []TraceNS {
	var out []TraceNS
	for i, l := range namespaces.Links {
		a, b := r.A.NS[i], r.B.NS[i]
		if r.Flags&uint64(l.Type) == 0 || b.Ino == 0 || a == b {
			continue
		}
		if slices.ContainsFunc(out, func(n TraceNS) bool { return n.Ino == b.Ino }) {
			continue
		}
		out = append(out, TraceNS{Type: l.Type, Ino: b.Ino, ID: b.ID})
	}
	return out
}

// TraceStatus is how a process ended, as wait(2) reports it.
type TraceStatus struct {
	Code   *int   `json:"code,omitempty"`   // exit(N)
	Signal string `json:"signal,omitempty"` // killed by this signal
	Core   bool   `json:"core_dumped,omitempty"`
}

// waitStatus reads a wait(2) status: exit code, or signal and core.
func waitStatus(ws int) *TraceStatus {
	if sig := ws & 0x7f; sig != 0 {
		name := unix.SignalName(unix.Signal(sig))
		if name == "" {
			name = fmt.Sprintf("signal %d", sig)
		}
		return &TraceStatus{Signal: name, Core: ws&0x80 != 0}
	}
	code := (ws >> 8) & 0xff
	return &TraceStatus{Code: &code}
}

// TraceNS names a namespace: its type, inode and, on 6.18+, its
// NS_GET_ID.
type TraceNS struct {
	Type namespaces.Type `json:"type"`
	Ino  uint64          `json:"ino"`
	ID   uint64          `json:"ns_id,omitempty"`
}

// TraceRef is one side of a row: a namespace by inode (and ns_id), or a
// kernel object by this run's id. null: the task has none (no mm for a
// kernel thread, no io_context or SysV undo list until first used).
type TraceRef struct {
	Ino  uint64 `json:"ino,omitempty"`
	NSID uint64 `json:"ns_id,omitempty"`
	Obj  uint64 `json:"obj,omitempty"`
}

// TraceShare is one row of a sharing or changes table. Name is a
// /proc/PID/ns link name or an object ("files", "fs", "mm", "sighand",
// "signal", "io", "sysvsem", "nsproxy", "cred").
//
// For a fork, Verdict is "same" (one object), "different" (two, or only
// one side has one) or "neither" (both NULL), and A and B are the parent
// and the child. For unshare and setns it is "kept", "replaced" or
// "neither", and A and B are before and after.
type TraceShare struct {
	Name    string    `json:"name"`
	Verdict string    `json:"verdict"`
	A       *TraceRef `json:"a"`
	B       *TraceRef `json:"b"`
}

// EndEvent is the line that closes a run.
func EndEvent(end *TraceEnd) *TraceEvent { return &TraceEvent{Event: "end", TraceEnd: end} }

// TraceEnd closes a run: why it ended, how many events were printed and
// how many the kernel dropped, and for trace how the command ended.
type TraceEnd struct {
	Reason string `json:"reason"` // "exited", "count", "duration", "signal", "detached"
	Events int    `json:"events"`
	Lost   uint64 `json:"lost"`
	// LostExits are the exit records dropped the same way: not events,
	// but ids left unforgotten and followed processes whose end trace
	// found by looking (see tracer.LostExits).
	LostExits uint64 `json:"lost_exits,omitempty"`
	// Missed are the times the kernel skipped the fork or system call
	// programs because another BPF program ran on that CPU
	// (tracer.Missed): events that may be missing although none was
	// dropped.
	Missed uint64 `json:"missed,omitempty"`
	// Unseen are the events this kernel did not let the tracer see, one
	// phrase each (tracer.Gaps: with fentry, a failed fork(2) or vfork(2)
	// where the kernel's BTF lacks its function; namespace deaths where
	// the kernel takes no kprobe).
	Unseen []string `json:"unseen,omitempty"`
	// ExitCode is the command's exit code, or 128+N when it was killed by
	// signal N (Signal names it): trace exits with it.
	// Violations and Undecided count the event rules of watch --policy
	// that events violated, or could not be decided for.
	Violations int    `json:"policy_violations,omitempty"`
	Undecided  int    `json:"policy_undecided,omitempty"`
	ExitCode   *int   `json:"exit_code,omitempty"`
	Signal     string `json:"signal,omitempty"`
}

// Shared reports a row's verdict by name, "" when there is no such row.
func (e *TraceEvent) Shared(name string) string {
	for _, r := range append(slices.Clone(e.Sharing), e.Changes...) {
		if r.Name == name {
			return r.Verdict
		}
	}
	return ""
}

// TraceEventOf is the contract's form of one of the tracer's events.
func TraceEventOf(r *tracer.Event) *TraceEvent { return traceEvent(r) }

// traceEvent builds the contract's event from the tracer's.
func traceEvent(r *tracer.Event) *TraceEvent {
	e := &TraceEvent{Event: r.Kind.String(), BoottimeNS: r.Boottime, raw: r}
	v := r.Flags
	e.Value = &v
	e.Flags = bitNames(r.Flags)
	switch r.Kind {
	case tracer.Fork:
		e.Caller = traceTask(&r.A, r.UserWorker)
		if r.ExitSignal > 0 {
			e.ExitSignal = unix.SignalName(unix.Signal(r.ExitSignal))
			if e.ExitSignal == "" {
				e.ExitSignal = fmt.Sprintf("signal %d", r.ExitSignal)
			}
		}
		if r.Errno != 0 {
			e.Syscall = r.Syscall
			e.Errno = flags.ErrnoName(r.Errno)
			e.Explain = flags.Explain(flags.Set(r.Flags), r.Errno)
			break
		}
		e.Child = traceTask(&r.B, r.UserWorker)
		e.Sharing = rows(&r.A, &r.B, "same", "different")
	case tracer.Unshare, tracer.Setns, tracer.Exec:
		e.Caller = traceTask(&r.B, r.UserWorker)
		e.Changes = rows(&r.A, &r.B, "kept", "replaced")
		if r.Errno != 0 {
			e.Errno = flags.ErrnoName(r.Errno)
		}
	}
	if (r.Kind == tracer.Fork || r.Kind == tracer.Unshare) && r.Errno == 0 {
		e.Born = born(r)
	}
	if r.Kind == tracer.Exec {
		e.Before = traceTask(&r.A, r.UserWorker)
		e.Flags, e.Value = nil, nil
	}
	if r.Kind == tracer.Death {
		e.Flags, e.Value = nil, nil
		e.Namespace = &TraceNS{Type: r.NSType, Ino: r.NS.Ino, ID: r.NS.ID}
	}
	if r.Kind == tracer.Exit {
		e.Caller = &TraceTask{PID: r.A.TGID, TID: r.A.TID, Comm: r.A.Comm, Kind: "user"}
		e.Flags, e.Value = nil, nil
		e.Status = waitStatus(r.Status)
		for _, o := range r.Freed {
			e.Freed = append(e.Freed, o.Name())
		}
	}
	if r.Kind == tracer.Unshare && r.Errno != 0 {
		e.Explain = flags.ExplainUnshare(flags.Set(r.Flags), r.Errno, r.A.Threads > 1)
	}
	if r.Kind == tracer.Setns {
		fd := r.FD
		e.FD = &fd
		switch {
		case r.FDKind == tracer.FDNSFS:
			e.FDKind = "nsfs"
			e.Entered = &TraceNS{Type: r.FDType, Ino: r.FDNS.Ino, ID: r.FDNS.ID}
		case r.FDKind == tracer.FDOther && r.Errno == 0:
			e.FDKind = "pidfd"
			e.TargetPID = r.Target
		case r.FDKind == tracer.FDOther:
			e.FDKind = "other"
		default:
			e.FDKind = "none"
		}
		if r.Errno != 0 {
			e.Explain = flags.ExplainSetns(r.Flags, uint64(r.FDType), r.FDKind == tracer.FDOther, r.Errno, r.A.Threads)
		}
	}
	return e
}

func traceTask(t *tracer.Task, userWorker uint32) *TraceTask {
	k := &TraceTask{PID: t.TGID, TID: t.TID, Comm: t.Comm, Kind: "user", Threads: t.Threads}
	switch {
	case t.Flags&tracer.PFIOWorker != 0:
		k.Kind = "io_worker"
	case userWorker != 0 && t.Flags&userWorker != 0:
		k.Kind = "user_worker"
	case t.Flags&tracer.PFKthread != 0:
		k.Kind = "kthread"
	}
	return k
}

// traceObjects are the objects a sharing table shows, in its order after
// the namespaces.
var traceObjects = []taskobj.Object{taskobj.Files, taskobj.FS, taskobj.MM, taskobj.Sighand, taskobj.Signal,
	taskobj.IO, taskobj.SysVSem, taskobj.NSProxy, taskobj.Cred}

// rows compares a and b: the ten namespaces, then the objects.
func rows(a, b *tracer.Task, same, differ string) []TraceShare {
	out := make([]TraceShare, 0, len(namespaces.Links)+len(traceObjects))
	for i, l := range namespaces.Links {
		x, y := nsRef(a.NS[i]), nsRef(b.NS[i])
		out = append(out, TraceShare{Name: l.Name, Verdict: verdict(a.NS[i].Ino, b.NS[i].Ino, same, differ), A: x, B: y})
	}
	for _, o := range traceObjects {
		x, y := objRef(a.Obj[o]), objRef(b.Obj[o])
		out = append(out, TraceShare{Name: o.Name(), Verdict: verdict(a.Obj[o], b.Obj[o], same, differ), A: x, B: y})
	}
	return out
}

func verdict(a, b uint64, same, differ string) string {
	switch {
	case a == 0 && b == 0:
		return "neither"
	case a == b:
		return same
	}
	return differ
}

func nsRef(r tracer.NSRef) *TraceRef {
	if r.Ino == 0 {
		return nil
	}
	return &TraceRef{Ino: r.Ino, NSID: r.ID}
}

func objRef(id uint64) *TraceRef {
	if id == 0 {
		return nil
	}
	return &TraceRef{Obj: id}
}

// bitNames names the bits of a clone, unshare or nstype word; a bit no
// table names is given in hex.
func bitNames(v uint64) []string {
	out := []string{}
	for _, f := range flags.All() {
		if f.Value != flags.ExitSignal.Value && v&f.Value == f.Value && f.Value != 0 {
			out = append(out, f.Name)
			v &^= f.Value
		}
	}
	if v != 0 {
		out = append(out, fmt.Sprintf("%#x", v))
	}
	return out
}
