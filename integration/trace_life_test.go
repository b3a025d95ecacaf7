package integration

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// tracerProgs lists the loaded programs of the tracer (bpf/trace.bpf.c:
// every name starts with "nst_").
func tracerProgs(t *testing.T) []bpfObject {
	t.Helper()
	out := testutil.MustRun(t, testutil.Command(t, testutil.Quick, "bpftool", "-j", "prog", "list"))
	var all []bpfObject
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatalf("bpftool -j prog list: %v in %q", err, out)
	}
	return slices.DeleteFunc(all, func(o bpfObject) bool { return !strings.HasPrefix(o.Name, "nst_") })
}

// tracerPrograms is how many programs one trace or watch attaches with
// its default hooks (package tracer): task_newtask, sched_process_exit,
// sched_process_exec, and the raw sys_enter and sys_exit tracepoints;
// and the kprobe on proc_free_inum (namespace deaths) where features
// says the kernel takes kprobes (not the project's 6.18 VM kernel).
func tracerPrograms(t *testing.T) int {
	if hasFeature(t, "kprobes (namespace deaths)") {
		return 6
	}
	return 5
}

// startWatchCmd starts `watch ARGS` with stdout to out and returns it,
// and its stderr so far, once its programs are attached (bpftool).
func startWatchCmd(t *testing.T, out io.Writer, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	before := tracerProgs(t)
	want := tracerPrograms(t)
	cmd := testutil.Command(t, testutil.Slow, binary, append([]string{"watch"}, args...)...)
	stderr := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if got := waitProgs(t, before, want); len(got) != want {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("watch running: %d new nst_ programs, want %d (stderr %s)", len(got), want, stderr.String())
	}
	return cmd, stderr
}

// haveTrampolines is features' answer to whether the kernel attaches
// fentry and fexit programs (--hooks fentry).
func haveTrampolines(t *testing.T) bool {
	t.Helper()
	return hasFeature(t, "BPF trampolines (fentry/fexit)")
}

// hasFeature is features' answer for the feature of that name; a probe
// that does not decide fails the test.
func hasFeature(t *testing.T, name string) bool {
	t.Helper()
	var rep struct {
		Features []struct {
			Name    string
			Present *bool
		}
	}
	if err := json.Unmarshal([]byte(mustRun(t, "features", "--json")), &rep); err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Features {
		if f.Name == name {
			if f.Present == nil {
				t.Fatalf("features cannot tell whether the kernel has %s", name)
			}
			return *f.Present
		}
	}
	t.Fatalf("features has no %q entry", name)
	return false
}

// waitProgs polls until the tracer's programs new since before number
// want (tracerPrograms while one trace runs, 0 after), for at most 10 s, and returns
// them.
func waitProgs(t *testing.T, before []bpfObject, want int) []bpfObject {
	t.Helper()
	var now []bpfObject
	for range 100 {
		now = newer(before, tracerProgs(t))
		if len(now) == want {
			return now
		}
		time.Sleep(100 * time.Millisecond)
	}
	return now
}

// children lists the children of every thread of pid.
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(s); err == nil {
				out = append(out, n)
			}
		}
	}
	return out
}

// startTrace starts `trace --json -- sleep 600` and returns once its
// programs are loaded; sleep is killed at cleanup.
func startTrace(t *testing.T, before []bpfObject) *exec.Cmd {
	t.Helper()
	want := tracerPrograms(t)
	cmd := testutil.Command(t, testutil.Quick, binary, "trace", "--json", "--", "sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, c := range children(cmd.Process.Pid) {
			syscall.Kill(c, syscall.SIGKILL)
		}
		cmd.Process.Kill()
		cmd.Wait()
	})
	if got := waitProgs(t, before, want); len(got) != want {
		t.Fatalf("trace running: %d new nst_ programs, want %d: %+v", len(got), want, got)
	}
	return cmd
}

// A trace killed with SIGKILL leaves no program (and so no link: a link
// holds its program) and nothing pinned: everything lived in its fds.
func TestTraceKilledLeavesNoBPF(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "bpftool", "bpftool")
	before := tracerProgs(t)
	pinned0, _ := os.ReadDir("/sys/fs/bpf")
	cmd := startTrace(t, before)
	kids := children(cmd.Process.Pid)
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	for _, c := range kids {
		syscall.Kill(c, syscall.SIGKILL)
	}
	if left := waitProgs(t, before, 0); len(left) != 0 {
		t.Errorf("programs left after SIGKILL: %+v", left)
	}
	if pinned, _ := os.ReadDir("/sys/fs/bpf"); len(pinned) != len(pinned0) {
		t.Errorf("bpffs has %d entries, %d before: something was pinned", len(pinned), len(pinned0))
	}
}

// SIGINT is passed on to the command, trace ends with its status (130)
// and unloads everything.
func TestTraceSIGINT(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "bpftool", "bpftool")
	before := tracerProgs(t)
	cmd := startTrace(t, before)
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if cmd.ProcessState.ExitCode() != 130 {
		t.Errorf("trace after SIGINT: %v, want exit 130", err)
	}
	if left := waitProgs(t, before, 0); len(left) != 0 {
		t.Errorf("programs left after SIGINT: %+v", left)
	}
}

// watch ends on its own at --count and at --duration, with an end line
// that says which; --type and --comm keep only the matching events.
func TestWatchCountDuration(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	cmd := testutil.Command(t, testutil.Quick, binary, "watch", "--json", "--type", "net", "--comm", "unshare", "--count", "1", "--duration", "60s")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	finished := false
	// Make a net namespace now and then until watch has seen one: it
	// misses those made before its programs were attached.
loop:
	for range 600 {
		select {
		case err = <-done:
			finished = true
			break loop
		default:
		}
		testutil.MustRun(t, testutil.Command(t, testutil.Quick, "unshare", "-n", "true"))
		time.Sleep(50 * time.Millisecond)
	}
	if !finished || err != nil {
		t.Fatalf("watch --count 1: %v: %s", err, stderr.String())
	}
	r := result{stdout: stdout.String()}
	checkContract(t, cmd.Args, r.stdout)
	evs := traceEvents(t, r.stdout)
	if len(evs) != 2 || evs[1].Reason != "count" || evs[1].Events != 1 {
		t.Fatalf("watch --count 1 printed:\n%s", r.stdout)
	}
	e := evs[0]
	if e.Caller.Comm != "unshare" && (e.Child == nil || e.Child.Comm != "unshare") {
		t.Errorf("--comm unshare let through %+v", e.Caller)
	}
	changed := false
	for _, rw := range append(e.Sharing, e.Changes...) {
		changed = changed || (rw.Name == "net" && rw.Verdict != "same" && rw.Verdict != "kept")
	}
	if !changed {
		t.Errorf("--type net let through an event that changes no net namespace:\n%s", r.stdout)
	}

	r = nsinspect(t, "watch", "--json", "--comm", "no-such-comm-here", "--duration", "1s")
	evs = traceEvents(t, r.stdout)
	if r.code != 0 || len(evs) != 1 || evs[0].Reason != "duration" || evs[0].Events != 0 {
		t.Errorf("watch --duration 1s: exit %d, printed %s (stderr %s)", r.code, r.stdout, r.stderr)
	}
}

// startWatch starts `watch ARGS` with stdout to out and returns once its
// programs are attached (bpftool), and a stop that sends SIGTERM and
// requires exit 0.
func startWatch(t *testing.T, out io.Writer, args ...string) (stop func()) {
	t.Helper()
	cmd, stderr := startWatchCmd(t, out, args...)
	return func() {
		t.Helper()
		cmd.Process.Signal(syscall.SIGTERM)
		if err := cmd.Wait(); err != nil {
			t.Fatalf("watch after SIGTERM: %v: %s", err, stderr.String())
		}
	}
}

// SIGTERM ends watch with an end line and exit 0.
func TestWatchSIGTERM(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "bpftool", "bpftool")
	before := tracerProgs(t)
	var out strings.Builder
	stopWatch := startWatch(t, &out, "--json", "--comm", "no-such-comm-here")
	stopWatch()
	if evs := traceEvents(t, out.String()); evs[0].Reason != "signal" {
		t.Errorf("end line %+v", evs[0].TraceEnd)
	}
	if left := waitProgs(t, before, 0); len(left) != 0 {
		t.Errorf("programs left after SIGTERM: %+v", left)
	}
}

// trace follows CMD's descendants after CMD exits: a backgrounded
// subshell waits until CMD is gone (reaped by nsinspect: kill -0 fails)
// and only then runs unshare -u, which trace still reports, ending when
// that last descendant exits, with CMD's status. With --until-cmd-exits
// the trace ends with CMD while a descendant still runs.
func TestTraceFollowsAfterCmdExits(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	script := `(while kill -0 $$ 2>/dev/null; do :; done; unshare -u true) >/dev/null 2>&1 & exec sh -c 'exit 3'`
	r := nsinspect(t, "trace", "--json", "--", "sh", "-c", script)
	if r.code != 3 {
		t.Fatalf("trace exited %d, want CMD's 3 (stderr %s)", r.code, r.stderr)
	}
	evs := traceEvents(t, r.stdout)
	var un *inspect.TraceEvent
	for _, e := range evs {
		if e.Event == "unshare" {
			un = e
		}
	}
	if un == nil || strings.Join(un.Flags, "|") != "CLONE_NEWUTS" || un.Caller.Comm != "unshare" {
		t.Fatalf("no unshare -u of the descendant after CMD exited:\n%s", r.stdout)
	}
	if end := evs[len(evs)-1]; end.Reason != "exited" || *end.ExitCode != 3 {
		t.Errorf("end line %+v", end.TraceEnd)
	}

	r = nsinspect(t, "trace", "--json", "--until-cmd-exits", "--", "sh", "-c", `sleep 600 >/dev/null 2>&1 & exec true`)
	evs = traceEvents(t, r.stdout)
	sleeper := 0
	for _, e := range evs {
		if e.Event == "fork" && e.Child != nil {
			sleeper = e.Child.PID
		}
	}
	if sleeper == 0 {
		t.Fatalf("no fork of the background sleep:\n%s", r.stdout)
	}
	alive := syscall.Kill(sleeper, 0) == nil
	syscall.Kill(sleeper, syscall.SIGKILL)
	if r.code != 0 || !alive || evs[len(evs)-1].Reason != "exited" {
		t.Errorf("--until-cmd-exits: exit %d, sleep %d alive %v at the end, end %+v", r.code, sleeper, alive, evs[len(evs)-1].TraceEnd)
	}
}

// Once CMD has exited, the first SIGTERM ends a trace that waits for a
// descendant: at once, with CMD's status and the reason "signal", leaving
// the descendant running.
func TestTraceSignalAfterCmdExits(t *testing.T) {
	requireTracer(t)
	cmd := testutil.Command(t, testutil.Quick, binary, "trace", "--json", "--", "sh", "-c", `sleep 600 >/dev/null 2>&1 & exec sh -c 'exit 5'`)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var errb strings.Builder
	cmd.Stderr = &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sleeper := 0
	t.Cleanup(func() {
		if sleeper != 0 {
			syscall.Kill(sleeper, syscall.SIGKILL)
		}
		cmd.Process.Kill()
		cmd.Wait()
	})
	sc := bufio.NewScanner(stdout)
	sc.Buffer(nil, 1<<20)
	var out strings.Builder
	for sleeper == 0 && sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		e := &inspect.TraceEvent{}
		if err := json.Unmarshal(sc.Bytes(), e); err != nil {
			t.Fatal(err)
		}
		if e.Event == "fork" && e.Child != nil {
			sleeper = e.Child.PID
		}
	}
	// CMD is reaped when trace has no child left.
	for i := 0; i < 100 && len(children(cmd.Process.Pid)) != 0; i++ {
		time.Sleep(100 * time.Millisecond)
	}
	if sleeper == 0 || len(children(cmd.Process.Pid)) != 0 {
		t.Fatalf("CMD did not exit, or made no process: sleep %d, trace's children %v\n%s", sleeper, children(cmd.Process.Pid), out.String())
	}
	cmd.Process.Signal(syscall.SIGTERM)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	if cmd.ProcessState.ExitCode() != 5 {
		t.Errorf("trace after SIGTERM: %v, want CMD's exit 5 (stderr %s)", err, errb.String())
	}
	evs := traceEvents(t, out.String())
	if end := evs[len(evs)-1]; end.Reason != "signal" || end.ExitCode == nil || *end.ExitCode != 5 {
		t.Errorf("end line %+v", end.TraceEnd)
	}
	if syscall.Kill(sleeper, 0) != nil {
		t.Errorf("the descendant %d did not outlive the trace", sleeper)
	}
}
