package inspect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/tracer"
)

// task is a tracer task in the initial namespaces, with objects ids.
func task(pid, tid int, comm string, objs ...uint64) tracer.Task {
	t := tracer.Task{TGID: pid, TID: tid, Comm: comm, Threads: 1}
	for i := range t.NS {
		t.NS[i] = tracer.NSRef{Ino: 4026531830 + uint64(i)}
	}
	copy(t.Obj[:], objs)
	return t
}

func link(name string) int {
	return slices.IndexFunc(namespaces.Links, func(l namespaces.Link) bool { return l.Name == name })
}

func TestTraceEventFork(t *testing.T) {
	// nsproxy files fs mm sighand signal cred io sysvsem
	parent := task(10, 10, "sh", 1, 1, 1, 1, 1, 1, 1, 0, 5)
	child := task(11, 11, "sh", 1, 2, 2, 2, 2, 2, 2, 0, 0)
	child.NS[link("net")].Ino = 4026532000
	child.Flags = tracer.PFKthread
	e := traceEvent(&tracer.Event{Kind: tracer.Fork, Flags: unix.CLONE_NEWNET | unix.CLONE_VFORK, ExitSignal: int(unix.SIGCHLD), A: parent, B: child})
	if e.Event != "fork" || e.ExitSignal != "SIGCHLD" || e.Child.Kind != "kthread" || e.Caller.Kind != "user" {
		t.Errorf("event %+v, child %+v", e, e.Child)
	}
	if !slices.Equal(e.Flags, []string{"CLONE_NEWNET", "CLONE_VFORK"}) {
		t.Errorf("flags %v", e.Flags)
	}
	for name, want := range map[string]string{"net": "different", "uts": "same", "nsproxy": "same",
		"files": "different", "io": "neither", "sysvsem": "different"} {
		if got := e.Shared(name); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	r := e.Sharing[len(namespaces.Links)+slices.Index(traceObjects, taskobj.SysVSem)]
	if r.Name != "sysvsem" || r.A == nil || r.A.Obj != 5 || r.B != nil {
		t.Errorf("sysvsem row %+v: only the parent has one", r)
	}
	if len(e.Sharing) != len(namespaces.Links)+len(traceObjects) || e.Changes != nil {
		t.Errorf("%d sharing rows, changes %v", len(e.Sharing), e.Changes)
	}
}

func TestTraceEventUnshareRefused(t *testing.T) {
	a := task(10, 12, "python3", 1)
	a.Threads = 2
	e := traceEvent(&tracer.Event{Kind: tracer.Unshare, Flags: unix.CLONE_NEWUSER, Errno: unix.EINVAL, A: a, B: a})
	if e.Errno != "EINVAL" || len(e.Explain) == 0 || !strings.Contains(e.Explain[0], "multi-threaded") {
		t.Errorf("errno %q, explanation %q", e.Errno, e.Explain)
	}
	if e.Shared("user") != "kept" || e.Child != nil || e.Sharing != nil {
		t.Errorf("user %s, child %v, sharing %v", e.Shared("user"), e.Child, e.Sharing)
	}
}

func TestTraceEventSetns(t *testing.T) {
	a := task(10, 10, "nsenter", 1)
	b := a
	b.NS[link("net")].Ino, b.Obj[taskobj.NSProxy] = 4026532000, 2
	for _, tt := range []struct {
		ev     tracer.Event
		kind   string
		target int
	}{
		{tracer.Event{FDKind: tracer.FDNSFS, FDType: namespaces.Net, FDNS: tracer.NSRef{Ino: 4026532000}}, "nsfs", 0},
		{tracer.Event{FDKind: tracer.FDOther, Target: 42}, "pidfd", 42},
		{tracer.Event{FDKind: tracer.FDOther, Target: 42, Errno: unix.ESRCH}, "other", 0},
		{tracer.Event{FDKind: tracer.FDNone, Errno: unix.EBADF}, "none", 0},
	} {
		ev := tt.ev
		ev.Kind, ev.Flags, ev.FD, ev.A, ev.B = tracer.Setns, unix.CLONE_NEWNET, 3, a, b
		e := traceEvent(&ev)
		if e.FDKind != tt.kind || e.TargetPID != tt.target || *e.FD != 3 {
			t.Errorf("%+v: fd_kind %s target %d", tt.ev, e.FDKind, e.TargetPID)
		}
		if (tt.kind == "nsfs") != (e.Entered != nil) {
			t.Errorf("%s: entered %+v", tt.kind, e.Entered)
		}
		if (ev.Errno != 0) != (len(e.Explain) > 0) {
			t.Errorf("%s: errno %v, explanation %q", tt.kind, ev.Errno, e.Explain)
		}
		if e.Shared("net") != "replaced" || e.Shared("uts") != "kept" {
			t.Errorf("%s: net %s uts %s", tt.kind, e.Shared("net"), e.Shared("uts"))
		}
	}
}

func TestWatchFilter(t *testing.T) {
	a := task(10, 10, "unshare")
	b := a
	b.NS[link("net")].Ino = 4026532000
	un := traceEvent(&tracer.Event{Kind: tracer.Unshare, Flags: unix.CLONE_NEWNET, A: a, B: b})
	fork := traceEvent(&tracer.Event{Kind: tracer.Fork, A: a, B: task(11, 11, "true")})
	for _, tt := range []struct {
		f        WatchFilter
		un, fork bool
	}{
		{WatchFilter{}, true, true},
		{WatchFilter{PID: 11}, false, true},
		{WatchFilter{PID: 10}, true, true},
		{WatchFilter{Comm: "true"}, false, true},
		{WatchFilter{Types: []namespaces.Type{namespaces.Net}}, true, false},
		{WatchFilter{Types: []namespaces.Type{namespaces.UTS, namespaces.Net}, Comm: "unshare"}, true, false},
		{WatchFilter{Types: []namespaces.Type{namespaces.UTS}}, false, false},
		// A scope matches on either task, before or after the call.
		{WatchFilter{In: []ScopeNS{{link("net"), 4026532000}}}, true, false},
		{WatchFilter{In: []ScopeNS{{link("pid"), a.NS[link("pid")].Ino}}}, true, true},
		{WatchFilter{In: []ScopeNS{{link("mnt"), 4026532999}, {link("net"), 4026532000}}}, true, false},
		{WatchFilter{In: []ScopeNS{{link("mnt"), 4026532999}}}, false, false},
		{WatchFilter{In: []ScopeNS{{link("net"), 4026532000}}, Comm: "true"}, false, false},
	} {
		if got := tt.f.Match(un); got != tt.un {
			t.Errorf("%+v on the unshare: %v", tt.f, got)
		}
		if got := tt.f.Match(fork); got != tt.fork {
			t.Errorf("%+v on the fork: %v", tt.f, got)
		}
	}
}

// A failed fork has a caller, the call, the errno explained, and no
// child or sharing table; it changes no namespace, so --type never keeps
// it, and a scope keeps it by its caller.
func TestFailedForkEvent(t *testing.T) {
	a := task(10, 10, "ct")
	r := &tracer.Event{Kind: tracer.Fork, Syscall: "clone3", Flags: unix.CLONE_NEWPID | unix.CLONE_THREAD | unix.CLONE_SIGHAND | unix.CLONE_VM,
		Errno: unix.EINVAL, ExitSignal: int(unix.SIGCHLD), A: a}
	e := traceEvent(r)
	if e.Child != nil || e.Sharing != nil || e.Caller == nil || e.Caller.PID != 10 {
		t.Fatalf("failed fork: child %+v, %d sharing rows, caller %+v; want no child, no rows, caller 10", e.Child, len(e.Sharing), e.Caller)
	}
	if e.Syscall != "clone3" || e.Errno != "EINVAL" || len(e.Explain) == 0 || e.ExitSignal != "SIGCHLD" {
		t.Errorf("failed fork: syscall %q errno %q explanation %q exit signal %q", e.Syscall, e.Errno, e.Explain, e.ExitSignal)
	}
	if !strings.Contains(strings.Join(e.Explain, " "), "CLONE_NEWPID") {
		t.Errorf("the explanation does not name CLONE_NEWPID with CLONE_THREAD: %q", e.Explain)
	}
	if got := ChangedTypes(e); got != nil {
		t.Errorf("a failed fork changed %v", got)
	}
	for _, f := range []WatchFilter{{Types: []namespaces.Type{namespaces.PID}}, {In: []ScopeNS{{link("mnt"), 4026532999}}}} {
		if f.Match(e) {
			t.Errorf("%+v keeps the failed fork", f)
		}
	}
	if f := (WatchFilter{In: []ScopeNS{{link("mnt"), a.NS[link("mnt")].Ino}}}); !f.Match(e) {
		t.Errorf("a scope of the caller's mount namespace drops its failed fork")
	}
}

// NewScope takes a task's pid and mount namespaces where they are not
// nsinspect's own, refuses a task in both of nsinspect's, and holds what
// it took until Close.
func TestNewScope(t *testing.T) {
	testutil.RequireRoot(t)
	if _, err := NewScope(context.Background(), "self", time.Second); !errors.Is(err, ErrBadInput) {
		t.Errorf("scope of self: %v; want ErrBadInput (it would match everything)", err)
	}
	if _, err := NewScope(context.Background(), "docker:", time.Second); !errors.Is(err, ErrBadInput) {
		t.Errorf("scope of docker:: %v; want ErrBadInput", err)
	}
	_, child := testutil.Unshare(t, "--mount", "--fork", "--pid")
	sc, err := NewScope(context.Background(), strconv.Itoa(child), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	if len(sc.NS) != 2 {
		t.Fatalf("scope of a task in a new pid and mount namespace: %+v; want both", sc.NS)
	}
	for _, in := range sc.NS {
		name := namespaces.Links[in.Link].Name
		var st unix.Stat_t
		if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/%s", child, name), &st); err != nil {
			t.Fatal(err)
		}
		if st.Ino != in.Ino {
			t.Errorf("%s: scope says %d, /proc/%d/ns/%s %d", name, in.Ino, child, name, st.Ino)
		}
	}
	if got := len(sc.h.FDs()); got != 2 {
		t.Errorf("the scope holds %d namespaces; want 2", got)
	}
}

// A kernel older than 5.8 and a missing privilege both exit 4, each as
// its own kind; anything else is undecided.
func TestTracerError(t *testing.T) {
	for _, tt := range []struct {
		err  error
		kind error
	}{
		{fmt.Errorf("%w (this is Linux 5.4)", tracer.ErrUnsupported), ErrUnsupported},
		{fmt.Errorf("%w: no BTF", bpfiter.ErrUnavailable), ErrPrivilege},
		{fmt.Errorf("%w: no CAP_BPF", tracer.ErrUnavailable), ErrPrivilege},
		{errors.New("reading the embedded BPF object"), ErrUndecided},
	} {
		err := tracerError(tt.err)
		if !errors.Is(err, tt.kind) || !errors.Is(err, tt.err) {
			t.Errorf("%v: %v is not %v", tt.err, err, tt.kind)
		}
	}
	if c := ClassOf(tracerError(tracer.ErrUnsupported)); c != Privilege {
		t.Errorf("a kernel without a ring buffer is class %v, want %v (exit 4)", c, Privilege)
	}
}
