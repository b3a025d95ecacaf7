package integration

import (
	"encoding/json"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// compareJSON is the part of `compare --json` the tests read.
type compareJSON struct {
	A, B struct {
		PID  int    `json:"pid"`
		TID  int    `json:"tid"`
		Comm string `json:"comm"`
	}
	Resources []struct {
		Name     string          `json:"name"`
		Kind     string          `json:"kind"`
		Shared   *bool           `json:"shared"`
		Evidence json.RawMessage `json:"evidence"`
		Note     string          `json:"note"`
	} `json:"resources"`
	FDs []struct {
		FD     int    `json:"fd"`
		Shared *bool  `json:"shared"`
		A      string `json:"a"`
		B      string `json:"b"`
	} `json:"fds"`
	FDError string `json:"fds_error"`
}

func (c compareJSON) verdicts() map[string]string {
	m := map[string]string{}
	for _, r := range c.Resources {
		switch {
		case r.Shared == nil:
			m[r.Name] = "indeterminate"
		case *r.Shared:
			m[r.Name] = "shared"
		default:
			m[r.Name] = "separate"
		}
	}
	return m
}

// unshareSleep starts a sleep(1) in the namespaces unshare(1) ARGS makes
// (testutil.Unshare, without --fork) and returns its pid.
func unshareSleep(t *testing.T, args ...string) int {
	t.Helper()
	pid, _ := testutil.Unshare(t, args...)
	return pid
}

func runCompareJSON(t *testing.T, args ...string) compareJSON {
	t.Helper()
	out := mustRun(t, append([]string{"compare", "--json"}, args...)...)
	var c compareJSON
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("compare --json output is not JSON: %v\n%s", err, out)
	}
	if len(c.Resources) != 16 {
		t.Fatalf("got %d resources, want 16:\n%s", len(c.Resources), out)
	}
	return c
}

func checkVerdicts(t *testing.T, got compareJSON, want map[string]string) {
	t.Helper()
	v := got.verdicts()
	for name, w := range want {
		if v[name] != w {
			t.Errorf("%s: got %q, want %q", name, v[name], w)
		}
	}
}

func TestCompareJSONUnshare(t *testing.T) {
	me := strconv.Itoa(os.Getpid())
	child := unshareSleep(t, "--net", "--uts")
	c := runCompareJSON(t, me, strconv.Itoa(child))
	if c.A.PID != os.Getpid() || c.B.PID != child || c.B.TID != child {
		t.Errorf("a/b: %+v %+v", c.A, c.B)
	}
	checkVerdicts(t, c, map[string]string{
		"net": "separate", "uts": "separate",
		"cgroup": "shared", "ipc": "shared", "mnt": "shared", "pid": "shared", "pid_for_children": "shared",
		"time": "shared", "time_for_children": "shared", "user": "shared",
		"files": "separate", "fs": "separate", "vm": "separate", "sighand": "separate",
	})
	for _, r := range c.Resources {
		if len(r.Evidence) < 3 || (r.Kind != "namespace" && r.Kind != "kcmp") {
			t.Errorf("%s: kind %q, evidence %s", r.Name, r.Kind, r.Evidence)
		}
	}
	if c.FDError != "" || len(c.FDs) == 0 {
		t.Errorf("fds: %+v, error %q", c.FDs, c.FDError)
	}

	// Without --fork, unshare --pid leaves pid alone, and pid_for_children
	// has no init yet: before Linux 7.1 the kernel refuses to open it, so
	// "?" not a guess; from 7.1 it opens, and is the new namespace.
	c = runCompareJSON(t, me, strconv.Itoa(unshareSleep(t, "--pid")))
	p4c := "indeterminate"
	if features.PidForChildrenBeforeInit() {
		p4c = "separate"
	}
	checkVerdicts(t, c, map[string]string{"pid": "shared", "pid_for_children": p4c})
}

// A thread as PID:TID shares the fd table, fs, memory and signal handlers
// with its process.
func TestCompareThreadArg(t *testing.T) {
	testutil.RequireRoot(t)
	tid := parkedThread(t)
	me := strconv.Itoa(os.Getpid())
	c := runCompareJSON(t, me, me+":"+strconv.Itoa(tid))
	if c.B.PID != os.Getpid() || c.B.TID != tid {
		t.Errorf("b: %+v, want tid %d", c.B, tid)
	}
	checkVerdicts(t, c, map[string]string{"files": "shared", "fs": "shared", "vm": "shared", "sighand": "shared", "net": "shared"})
}

// parkedThread returns the tid of a thread of the test process other than
// the leader that lives until the test ends.
func parkedThread(t *testing.T) int {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	for {
		ready := make(chan int)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
			ready <- unix.Gettid()
			<-done
		}()
		if tid := <-ready; tid != os.Getpid() {
			return tid
		}
	}
}

func TestCompareExpect(t *testing.T) {
	me := strconv.Itoa(os.Getpid())
	net := strconv.Itoa(unshareSleep(t, "--net"))
	pidNoInit := strconv.Itoa(unshareSleep(t, "--pid"))

	r := nsinspect(t, "compare", me, net, "--expect", "net=separate,uts=shared,files=separate", "--expect", "mnt=shared")
	if r.code != 0 || r.stderr != "" {
		t.Errorf("expectations that hold: exit %d, stderr %q", r.code, r.stderr)
	}

	r = nsinspect(t, "compare", me, net, "--expect", "net=shared,uts=shared,vm=shared")
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if r.code != 1 || len(lines) != 2 ||
		!strings.HasPrefix(lines[0], "net: expected shared, got separate (") || !strings.Contains(lines[0], "net:[") ||
		!strings.HasPrefix(lines[1], "vm: expected shared, got separate (kcmp KCMP_VM = ") {
		t.Errorf("violated expectations: exit %d, stderr:\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "RESOURCE") {
		t.Errorf("the report is still printed on stdout: %q", r.stdout)
	}

	// An indeterminate result is never a pass, and not a checked
	// violation either: nsinspect could not find out (exit 5). Before
	// Linux 7.1 pid_for_children of a pid namespace without init is one
	// (ENOENT); from 7.1 that link opens, and SysV undo lists that neither
	// of two fresh processes has allocated are the example.
	a, what := me, "pid_for_children"
	if features.PidForChildrenBeforeInit() {
		a, what = net, "sysvsem"
	}
	r = nsinspect(t, "compare", a, pidNoInit, "--expect", what+"=separate")
	if r.code != 5 || !strings.HasPrefix(r.stderr, what+": expected separate, got indeterminate (") ||
		!strings.Contains(r.stderr, "nsinspect: --expect: 1 expectation(s) could not be decided") {
		t.Errorf("indeterminate must not pass: exit %d, stderr %q", r.code, r.stderr)
	}
}

// Without CAP_SYS_PTRACE, nsinspect (as nobody) cannot kcmp or open the
// namespaces of root's processes: every such row is "?" with the reason,
// the report is printed, and the command exits 4 (the kernel refused)
// with one line saying so.
func TestCompareUnprivileged(t *testing.T) {
	testutil.RequireRoot(t)
	a, b := unshareSleep(t, "--uts"), unshareSleep(t, "--ipc")
	r := runAs(t, nobody(), "compare", "--json", strconv.Itoa(a), strconv.Itoa(b))
	checkOneLineError(t, r, 4, "compare as nobody")
	if !strings.Contains(r.stderr, "16 of 16 resources could not be compared") {
		t.Errorf("compare as nobody: stderr %q; want the refused rows counted", r.stderr)
	}
	var c compareJSON
	if err := json.Unmarshal([]byte(r.stdout), &c); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(c.Resources) != 16 {
		t.Fatalf("got %d resources", len(c.Resources))
	}
	for _, r := range c.Resources {
		if r.Shared != nil || !strings.Contains(r.Note, "CAP_SYS_PTRACE") || !strings.Contains(r.Note, "run as root") {
			t.Errorf("%s as nobody: shared=%v note %q", r.Name, r.Shared, r.Note)
		}
	}
	if !strings.Contains(c.FDError, "permission denied") {
		t.Errorf("fds as nobody: %q", c.FDError)
	}
}
