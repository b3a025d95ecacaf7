package tracer

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/bpfload"
	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
)

// traced runs argv under a following tracer and returns its events.
func traced(t *testing.T, argv ...string) []*Event {
	t.Helper()
	testutil.RequireRoot(t)
	tr, err := Open(Options{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	stats, err := ebpf.EnableStats(unix.BPF_STATS_RUN_TIME)
	if err != nil {
		t.Fatal(err)
	}
	defer stats.Close()
	evs := run(t, tr, argv...)
	var lines []string
	for _, e := range evs {
		lines = append(lines, fmt.Sprintf("event %v %s[%d/%d] -> %s[%d/%d] flags %#x errno %v", e.Kind, e.A.Comm, e.A.TGID, e.A.TID, e.B.Comm, e.B.TGID, e.B.TID, e.Flags, e.Errno))
	}
	lines = append(lines, programStats(tr)...)
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range lines {
				t.Log(l)
			}
		}
	})
	return evs
}

// programStats are each program's runs and recursion misses, and the
// tracer's lost and missed counts: what a test that did not get an event
// shows of where it went.
func programStats(tr *Tracer) []string {
	var lines []string
	for _, p := range append([]*ebpf.Program{tr.objs.NstNewtask, tr.objs.NstExit, tr.objs.NstExec}, tr.calls...) {
		st, err := p.Stats()
		if err != nil {
			lines = append(lines, fmt.Sprintf("%v: %v", p, err))
			continue
		}
		lines = append(lines, fmt.Sprintf("%v: %d runs, %d recursion misses", p, st.RunCount, st.RecursionMisses))
	}
	lost, _ := tr.Lost()
	missed, _ := tr.Missed()
	return append(lines, fmt.Sprintf("lost %d, missed %d", lost, missed))
}

// run runs argv under tr and returns the events, once every one sent
// before it exited is read.
func run(t *testing.T, tr *Tracer, argv ...string) []*Event {
	t.Helper()
	return runEnv(t, tr, nil, argv...)
}

// runEnv is run with env added to the command's environment.
func runEnv(t *testing.T, tr *Tracer, env []string, argv ...string) []*Event {
	t.Helper()
	cmd := testutil.Command(t, time.Minute, argv[0], argv[1:]...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	if _, err := testutil.Output(cmd); err != nil {
		t.Fatal(err)
	}
	return flushed(t, tr)
}

// flushed reads what the ring buffer holds now.
func flushed(t *testing.T, tr *Tracer) []*Event {
	t.Helper()
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	var evs []*Event
	for {
		e, err := tr.Read()
		if errors.Is(err, ErrFlushed) {
			return evs
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
}

// Missed reads the programs' recursion misses on every kernel (0 before
// 5.12, which does not count them) and logs each program's, and a shell's
// ten children are all followed.
func TestMissed(t *testing.T) {
	testutil.RequireRoot(t)
	tr, err := Open(Options{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	run(t, tr, "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do true & wait; done")
	n, err := tr.Missed()
	if err != nil {
		t.Fatal(err)
	}
	follow, err := tr.lost(2)
	if err != nil {
		t.Fatal(err)
	}
	progs := append([]*ebpf.Program{tr.objs.NstNewtask, tr.objs.NstExit, tr.objs.NstExec}, tr.calls...)
	if tr.deaths != nil {
		progs = append(progs, tr.deaths)
	}
	for _, p := range progs {
		st, err := p.Stats()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%v: %d recursion misses", p, st.RecursionMisses)
	}
	t.Logf("missed %d in all, %d of them processes not followed", n, follow)
	if follow != 0 {
		t.Errorf("%d processes of a ten-child shell could not be followed", follow)
	}
}

// unshare -n -f: one unshare that replaces net and nothing else, then a
// fork whose child shares the new net with its parent.
func TestUnshareNetFork(t *testing.T) {
	testutil.RequireCommand(t, "unshare", "util-linux")
	evs := traced(t, "unshare", "-n", "-f", "true")
	var un, fork *Event
	for _, e := range evs {
		t.Logf("%v flags=%#x errno=%v a=%+v b=%+v", e.Kind, e.Flags, e.Errno, e.A, e.B)
		switch {
		case e.Kind == Unshare && un == nil:
			un = e
		case e.Kind == Fork && un != nil && e.A.TGID == un.A.TGID:
			fork = e
		}
	}
	if un == nil || fork == nil {
		t.Fatalf("no unshare then fork among %d events", len(evs))
	}
	const net = 3 // namespaces.Links
	if un.Flags != unix.CLONE_NEWNET || un.Errno != 0 {
		t.Errorf("unshare flags %#x errno %v", un.Flags, un.Errno)
	}
	for i := range un.A.NS {
		if changed := un.A.NS[i] != un.B.NS[i]; changed != (i == net) {
			t.Errorf("namespace slot %d changed: %v (%v -> %v)", i, changed, un.A.NS[i], un.B.NS[i])
		}
	}
	if fork.A.NS != fork.B.NS || fork.B.NS[net] != un.B.NS[net] {
		t.Errorf("fork child namespaces %v, parent %v, new net %v", fork.B.NS, fork.A.NS, un.B.NS[net])
	}
	if fork.A.Obj[taskobj.MM] == fork.B.Obj[taskobj.MM] || fork.A.Obj[taskobj.Files] == fork.B.Obj[taskobj.Files] {
		t.Errorf("fork shares mm or files: %v %v", fork.A.Obj, fork.B.Obj)
	}
}

// nsenter -n -t PID: one setns on PID's net namespace file, with its
// nstype, that replaces net.
func TestSetnsNet(t *testing.T) {
	testutil.RequireCommand(t, "nsenter", "util-linux")
	target, _ := testutil.Unshare(t, "-n")
	var st unix.Stat_t
	if err := unix.Stat(fmt.Sprintf("/proc/%d/ns/net", target), &st); err != nil {
		t.Fatal(err)
	}
	var setns []*Event
	for _, e := range traced(t, "nsenter", "-n", "-t", fmt.Sprint(target), "true") {
		if e.Kind == Setns {
			setns = append(setns, e)
		}
	}
	if len(setns) != 1 {
		t.Fatalf("%d setns events, want 1", len(setns))
	}
	e := setns[0]
	const net = 3 // namespaces.Links
	if e.FDKind != FDNSFS || e.FDType != namespaces.Net || e.FDNS.Ino != st.Ino || e.Errno != 0 {
		t.Errorf("setns fd %d: kind %v type %v ino %d errno %v, want net %d", e.FD, e.FDKind, e.FDType, e.FDNS.Ino, e.Errno, st.Ino)
	}
	if e.Flags != unix.CLONE_NEWNET {
		t.Errorf("nstype %#x, want CLONE_NEWNET", e.Flags)
	}
	if e.A.NS[net] == e.B.NS[net] || e.B.NS[net].Ino != st.Ino {
		t.Errorf("net %v -> %v, want %d", e.A.NS[net], e.B.NS[net], st.Ino)
	}
}

// A forked child that exits without exec frees its files, fs, mm,
// sighand, signal and cred (it held the only reference to each): the exit
// record drops their ids, and the followed process's end is an Exit
// event.
func TestExitForgetsIDs(t *testing.T) {
	testutil.RequireRoot(t)
	tr, err := Open(Options{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	// A subshell in the foreground: one in the background opens /dev/null,
	// whose file holds a reference to its cred past the exit tracepoint.
	evs := run(t, tr, "sh", "-c", "(:); :")
	var fork *Event
	exited := map[int]*Event{}
	for _, e := range evs {
		switch e.Kind {
		case Fork:
			fork = e
		case Exit:
			exited[e.A.TGID] = e
		}
	}
	if fork == nil || exited[fork.B.TGID] == nil {
		t.Fatalf("no fork, or no exit of its child: %d events, exits %v", len(evs), exited)
	}
	// The exit event says how the child ended (a wait status of 0) and
	// what died with it.
	x := exited[fork.B.TGID]
	freed := map[taskobj.Object]bool{}
	for _, o := range x.Freed {
		freed[o] = true
	}
	if x.Status != 0 || x.A.Comm != "sh" || !freed[taskobj.Files] || !freed[taskobj.FS] || !freed[taskobj.Sighand] || !freed[taskobj.Signal] || !freed[taskobj.Cred] {
		t.Errorf("the child's exit: %s status %#x, freed %v; want sh, 0, and its files, fs, sighand, signal and cred", x.A.Comm, x.Status, x.Freed)
	}
	// Not mm: a reference someone else takes for a moment (mmget by a
	// /proc reader or khugepaged) at the exit tracepoint keeps mm_users
	// above the program's threshold, and the id then stays until the
	// table's bound pushes it out (docs/trace.md, "Ids, not
	// addresses"): seen on 6.12 and once on 6.1 in the kernel matrix.
	for _, o := range []taskobj.Object{taskobj.Files, taskobj.FS, taskobj.Sighand, taskobj.Signal, taskobj.Cred} {
		for _, el := range tr.ids[o].byHash {
			if el.Value.(*idEntry).id == fork.B.Obj[o] {
				t.Errorf("%s id %d of the exited child is still in the table", o.Name(), fork.B.Obj[o])
			}
		}
	}
}

// TestVerifierWork bounds the instructions the verifier walks for each
// tracer program, most of what starting trace or watch costs: on 6.18
// nst_newtask took 12,362 while the object hash was a static function,
// checked once per call site (nine a task, two tasks), and 2,082 as a
// global function, checked once. The system call programs are those of
// the hooks the kernel takes (fentry and fexit, or the raw tracepoints).
func TestVerifierWork(t *testing.T) {
	tr, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	tr.Close()
	restore, err := bpfload.RaiseMemlock()
	if err != nil {
		t.Fatal(err)
	}
	defer restore()
	spec, err := loadTrace()
	if err != nil {
		t.Fatal(err)
	}
	kernel, err := btf.LoadKernelSpec()
	if err != nil {
		t.Fatal(err)
	}
	hooks := []Hooks{HooksRawTracepoints}
	if p := features.Probe(features.BPFTrampolines); p.Present != nil && *p.Present {
		hooks = append(hooks, HooksFentry)
	}
	for _, h := range hooks {
		spec := spec.Copy()
		callPrograms(spec, h, kernel)
		testutil.CheckVerifierWork(t, spec, ebpf.CollectionOptions{}, 8000)
	}
}

// Read waits before reading on only when it caught up twice within
// loadGap: under load. A record that comes alone is read at once.
func TestPacer(t *testing.T) {
	var p pacer
	start := time.Unix(1000, 0)
	steps := []struct {
		at    time.Duration
		pause bool
	}{
		{0, false},                        // the first catch-up: nothing to compare
		{loadGap / 10, true},              // records keep coming: load
		{loadGap / 10 * 2, true},          // still
		{loadGap/10*2 + 2*loadGap, false}, // a lone record after a quiet spell
		{loadGap/10*2 + 4*loadGap, false}, // another
	}
	for i, s := range steps {
		p.caughtUp(start.Add(s.at))
		if p.pause != s.pause {
			t.Errorf("catch-up %d at %v: pause %v, want %v", i, s.at, p.pause, s.pause)
		}
	}
}
