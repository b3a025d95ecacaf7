package tracer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"

	"github.com/nsinspect/nsinspect/internal/taskobj"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// The exec helpers: this test binary, run again by TestExec with
// NSI_EXEC_HELPER set, does one exec in a way the tests name.
func TestMain(m *testing.M) {
	switch os.Getenv("NSI_EXEC_HELPER") {
	case "":
		os.Exit(m.Run())
	case "files", "sighand":
		// A child that shares this process's fd table (CLONE_FILES) or
		// signal handlers (CLONE_SIGHAND), with the vfork of
		// syscall.ForkExec, execs true. The child's only fd setup is
		// clearing close-on-exec on 0, 1 and 2, harmless in a shared
		// table (KERNEL-NOTES: dup2 would not be); its reset of the
		// signal handlers resets this helper's, which only waits.
		flags := uintptr(unix.CLONE_FILES)
		if os.Getenv("NSI_EXEC_HELPER") == "sighand" {
			flags = unix.CLONE_SIGHAND
		}
		pid, err := syscall.ForkExec(os.Getenv("NSI_TRUE"), []string{"true"}, &syscall.ProcAttr{
			Files: []uintptr{0, 1, 2},
			Sys:   &syscall.SysProcAttr{Cloneflags: flags},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, "fork and exec with CLONE_FILES:", err)
			os.Exit(1)
		}
		var ws syscall.WaitStatus
		syscall.Wait4(pid, &ws, 0, nil)
		os.Exit(ws.ExitStatus())
	case "refuse":
		// A clone the kernel refuses: EINVAL.
		_, _, errno := unix.RawSyscall(unix.SYS_CLONE, unix.CLONE_NEWPID|unix.CLONE_THREAD, 0, 0)
		if errno != unix.EINVAL {
			fmt.Fprintln(os.Stderr, "clone(CLONE_NEWPID|CLONE_THREAD):", errno)
			os.Exit(1)
		}
		os.Exit(0)
	case "thread":
		// A thread other than the leader execs true: it takes the
		// leader's pid (de_thread).
		done := make(chan error)
		for range 8 {
			go func() {
				runtime.LockOSThread()
				if unix.Gettid() == unix.Getpid() {
					return // the leader; another goroutine runs elsewhere
				}
				done <- syscall.Exec(os.Getenv("NSI_TRUE"), []string{"true"}, os.Environ())
			}()
		}
		fmt.Fprintln(os.Stderr, "exec from a thread:", <-done)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "unknown NSI_EXEC_HELPER", os.Getenv("NSI_EXEC_HELPER"))
	os.Exit(2)
}

// execEvents runs this test binary as helper mode under a following
// tracer and returns its exec events.
func execEvents(t *testing.T, mode string) []*Event {
	t.Helper()
	testutil.RequireRoot(t)
	truePath, err := exec.LookPath("true")
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tr, err := Open(Options{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	var execs []*Event
	for _, e := range runEnv(t, tr, []string{"NSI_EXEC_HELPER=" + mode, "NSI_TRUE=" + truePath}, self) {
		if e.Kind == Exec {
			t.Logf("exec %s[%d/%d] -> %s[%d/%d]: objects %v -> %v", e.A.Comm, e.A.TGID, e.A.TID, e.B.Comm, e.B.TGID, e.B.TID, e.A.Obj, e.B.Obj)
			execs = append(execs, e)
		}
	}
	return execs
}

// exec replaces the mm and the cred (commit_creds of bprm->cred), always;
// the files of a task that shared them (CLONE_FILES) are copied
// (unshare_files()), and so is a shared signal handler table
// (CLONE_SIGHAND: de_thread()), those it did not share kept; signal, fs,
// nsproxy and every namespace are kept. A vfork child (syscall.ForkExec)
// borrowed its parent's mm until then. Two execs each: the test's child
// (a vfork of os/exec) into the helper, the helper's sharing child into
// true.
func TestExec(t *testing.T) {
	for _, mode := range []string{"files", "sighand"} {
		t.Run(mode, func(t *testing.T) { testExec(t, mode) })
	}
}

func testExec(t *testing.T, mode string) {
	shared := map[string]taskobj.Object{"files": taskobj.Files, "sighand": taskobj.Sighand}[mode]
	execs := execEvents(t, mode)
	if len(execs) != 2 {
		t.Fatalf("%d exec events, want 2 (the helper, true)", len(execs))
	}
	for i, e := range execs {
		if e.Errno != 0 || e.A.TGID != e.B.TGID || e.A.TID != e.B.TID || e.A.NS != e.B.NS {
			t.Errorf("exec %d: errno %v, %d/%d -> %d/%d, namespaces %v -> %v", i, e.Errno, e.A.TGID, e.A.TID, e.B.TGID, e.B.TID, e.A.NS, e.B.NS)
		}
		for o := range taskobj.Count {
			o := taskobj.Object(o)
			replaced := e.A.Obj[o] != e.B.Obj[o]
			want := o == taskobj.MM || o == taskobj.Cred || o == shared && i == 1
			if replaced != want {
				t.Errorf("exec %d (%s -> %s): %s replaced %v, want %v (%d -> %d)", i, e.A.Comm, e.B.Comm, o.Name(), replaced, want, e.A.Obj[o], e.B.Obj[o])
			}
		}
	}
	if last := execs[1]; last.B.Comm != "true" {
		t.Errorf("the last exec is %s's, want true's", last.B.Comm)
	}
}

// A thread that is not its process's leader execs: one exec event, the
// thread's own TID before and the leader's (the TGID) after; mm and
// cred replaced, as for any exec; files and sighand, shared with the
// other threads until then, kept: de_thread() has waited for the others
// to exit, so nothing shares them any more.
func TestExecFromThread(t *testing.T) {
	execs := execEvents(t, "thread")
	if len(execs) != 2 {
		t.Fatalf("%d exec events, want 2 (the helper, true)", len(execs))
	}
	e := execs[1]
	if e.A.TID == e.A.TGID || e.B.TID != e.B.TGID || e.A.TGID != e.B.TGID || e.B.Comm != "true" {
		t.Errorf("exec from a thread: %s[%d/%d] -> %s[%d/%d], want a non-leader TID before and the TGID after", e.A.Comm, e.A.TGID, e.A.TID, e.B.Comm, e.B.TGID, e.B.TID)
	}
	if e.A.Obj[taskobj.MM] == e.B.Obj[taskobj.MM] || e.A.Obj[taskobj.Cred] == e.B.Obj[taskobj.Cred] {
		t.Errorf("exec from a thread kept mm or cred: %v -> %v", e.A.Obj, e.B.Obj)
	}
	if e.A.Obj[taskobj.Files] != e.B.Obj[taskobj.Files] || e.A.Obj[taskobj.Sighand] != e.B.Obj[taskobj.Sighand] {
		t.Errorf("exec from a thread replaced files or sighand: %v -> %v", e.A.Obj, e.B.Obj)
	}
}

// unshare -T: unshare(CLONE_NEWTIME) replaces time_for_children alone;
// on a kernel that has exec_task_namespaces() (fs/exec: "switch timens
// when a task gets a new mm"; in /proc/kallsyms) the exec of the command
// that follows moves the caller into that time namespace, replacing time
// and nsproxy. Without it the exec keeps them, and only the children are
// in the new one. Debian's 6.1 has it not, 6.12 has it.
func TestExecEntersTimeNamespace(t *testing.T) {
	testutil.RequireCommand(t, "unshare", "util-linux")
	var un, ex *Event
	for _, e := range traced(t, "unshare", "-T", "true") {
		switch {
		case e.Kind == Unshare:
			un = e
		case e.Kind == Exec && un != nil:
			ex = e
		}
	}
	if un == nil || ex == nil {
		t.Fatal("no unshare followed by an exec")
	}
	const timeSlot, time4c = 6, 7 // namespaces.Links
	newTime := un.B.NS[time4c]
	if newTime == un.A.NS[time4c] || un.B.NS[timeSlot] != un.A.NS[timeSlot] {
		t.Fatalf("unshare -T: time %v -> %v, time_for_children %v -> %v", un.A.NS[timeSlot], un.B.NS[timeSlot], un.A.NS[time4c], newTime)
	}
	var uts unix.Utsname
	unix.Uname(&uts)
	release := unix.ByteSliceToString(uts.Release[:])
	syms, err := os.ReadFile("/proc/kallsyms")
	if err != nil {
		t.Fatal(err)
	}
	switches := regexp.MustCompile(`(?m) exec_task_namespaces$`).Match(syms)
	entered := ex.B.NS[timeSlot] == newTime
	t.Logf("Linux %s (exec_task_namespaces: %v): the exec after unshare -T: time %v -> %v, nsproxy %d -> %d", release, switches, ex.A.NS[timeSlot], ex.B.NS[timeSlot], ex.A.Obj[taskobj.NSProxy], ex.B.Obj[taskobj.NSProxy])
	if entered != switches {
		t.Errorf("Linux %s: the exec entered the new time namespace: %v; the kernel has exec_task_namespaces: %v", release, entered, switches)
	}
	if nsp := ex.A.Obj[taskobj.NSProxy] != ex.B.Obj[taskobj.NSProxy]; nsp != entered {
		t.Errorf("nsproxy replaced %v, time namespace entered %v", nsp, entered)
	}
}

// The tracer sees the system calls with the raw tracepoints unless asked
// for fentry and fexit, which it gets exactly where features' probe of
// BPF trampolines says the kernel attaches them (every kernel of the
// matrix, x86_64 and arm64; not the project's 6.18 VM kernel, which
// refuses to load fentry programs even as root), and with them it sees
// an unshare, a setns, an exec and a refused clone as the tracepoints
// do, and names what it cannot see.
func TestHooks(t *testing.T) {
	testutil.RequireRoot(t)
	tr, err := Open(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if h := tr.Hooks(); h != HooksRawTracepoints || len(tr.calls) != 2 || len(tr.gaps) != 0 {
		t.Errorf("by default: hooks %s, %d system call programs, gaps %q", h, len(tr.calls), tr.gaps)
	}
	tr.Close()
	p := features.Probe(features.BPFTrampolines)
	if p.Present == nil {
		t.Fatalf("the trampoline probe is undecided as root: %s", p.Evidence)
	}
	tr, err = Open(Options{Follow: true, Hooks: HooksFentry})
	t.Logf("fentry: %v; the probe: %s", err, p.Evidence)
	if !*p.Present {
		if !errors.Is(err, ErrNoTrampolines) {
			t.Fatalf("no trampolines (%s), and Open with fentry gave %v", p.Evidence, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("trampolines (%s), and Open with fentry failed: %v", p.Evidence, err)
	}
	defer tr.Close()
	want := 9 // in: unshare, setns, begin_new_exec; out: unshare, setns, clone, clone3, fork, vfork
	if nrFork < 0 {
		want = 7 // no fork or vfork system call
	}
	// tr.gaps: the system calls' (TestNamespaceDeaths checks the rest).
	t.Logf("%d system call programs; not seen: %q", len(tr.calls), tr.Gaps())
	for _, g := range tr.gaps[:len(tr.gaps)-1] {
		if !strings.HasPrefix(g, "a failed fork(2)") && !strings.HasPrefix(g, "a failed vfork(2)") && !strings.HasPrefix(g, "a failed clone3(2)") {
			t.Errorf("not seen with fentry: %s", g)
		}
	}
	if len(tr.calls) != want-(len(tr.gaps)-1) {
		t.Errorf("%d system call programs, want %d less the gaps %q", len(tr.calls), want, tr.gaps)
	}
	// unshare -u, then exec true; and clone(CLONE_NEWPID|CLONE_THREAD), EINVAL.
	kinds := map[string]int{}
	for _, e := range run(t, tr, "unshare", "-u", "true") {
		kinds[e.Kind.String()]++
	}
	if kinds["unshare"] != 1 || kinds["exec"] != 2 {
		t.Errorf("unshare -u true under fentry: %v, want 1 unshare and 2 execs", kinds)
	}
	if slices.ContainsFunc(tr.gaps, func(g string) bool { return strings.HasPrefix(g, "a failed clone(2)") }) {
		return
	}
	var refused []*Event
	for _, e := range runEnv(t, tr, []string{"NSI_EXEC_HELPER=refuse"}, os.Args[0]) {
		if e.Kind == Fork && e.Errno != 0 {
			refused = append(refused, e)
		}
	}
	if len(refused) != 1 || refused[0].Errno != unix.EINVAL || refused[0].Syscall != "clone" || refused[0].Flags != unix.CLONE_NEWPID|unix.CLONE_THREAD {
		t.Errorf("a refused clone under fentry: %+v, want one clone(CLONE_NEWPID|CLONE_THREAD) = EINVAL", refused)
	}
}
