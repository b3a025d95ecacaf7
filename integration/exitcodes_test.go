package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// taskCommands are the commands that take a task, each as a command line
// around one target.
var taskCommands = []struct {
	name string
	argv func(target string) []string
}{
	{"compare", func(x string) []string { return []string{"compare", x, "self"} }},
	{"show", func(x string) []string { return []string{"show", x} }},
	{"fds", func(x string) []string { return []string{"fds", x} }},
	{"ls -p", func(x string) []string { return []string{"ls", "-p", x} }},
	{"graph -p", func(x string) []string { return []string{"graph", "-p", x} }},
	{"nsproxy -p", func(x string) []string { return []string{"nsproxy", "-p", x} }},
	{"audit", func(x string) []string { return []string{"audit", x} }},
}

// exitCase is one kind of failure every task command must answer alike:
// the exit code, and a text its last stderr line must contain.
type exitCase struct {
	name   string
	target string
	code   int
	has    string
	as     *syscall.SysProcAttr
	env    []string
}

// TestExitCodeTable runs every command that takes a task against every
// kind of failure the README's exit-code table names, through the built
// binary: the same failure gets the same exit code and the same kind of
// line from every command. (A task that vanishes mid-read, exit 5, is
// pinned by inspect's TestReadErrorAfterExit and TestRaceUnderChurn: it
// cannot be made to happen on cue from outside.)
func TestExitCodeTable(t *testing.T) {
	e := requireEngine(t)
	c := e.startHold(t, "exitcodes")
	b, err := os.ReadFile("/proc/sys/kernel/pid_max")
	if err != nil {
		t.Fatal(err)
	}
	never := strings.TrimSpace(string(b))
	// root's process, which nobody may not read.
	rootsProc := testutil.Command(t, testutil.Held, "sleep", "1000")
	startChild(t, rootsProc)
	refused := strconv.Itoa(rootsProc.Process.Pid)

	dir := t.TempDir()
	mute := muteSocket(t)

	cases := []exitCase{
		{name: "malformed target", target: "abc", code: 2, has: `bad PID "abc": not a number`},
		{name: "unknown engine", target: "nosuch:x", code: 2, has: `unknown engine "nosuch"`},
		{name: "no such task", target: never, code: 2, has: "no process with PID " + never},
		{name: "no such container", target: "docker:nsinspect-no-such-container", code: 2, has: `no docker container named "nsinspect-no-such-container"`},
		{name: "refused read", target: refused, code: 4, has: "CAP_SYS_PTRACE", as: nobody()},
		{name: "socket refused", target: "docker:" + c.name, code: 4, has: "permission denied", as: nobody()},
		{name: "engine down", target: "docker:" + c.name, code: 5, has: "is absent", env: []string{"DOCKER_HOST=unix://" + filepath.Join(dir, "absent.sock")}},
		{name: "engine slow", target: "docker:" + c.name, code: 5, has: "did not answer in time", env: []string{"DOCKER_HOST=unix://" + mute}},
		{name: "a container", target: "docker:" + c.name, code: 0},
	}
	for _, cmd := range taskCommands {
		for _, k := range cases {
			argv := cmd.argv(k.target)
			what := cmd.name + " / " + k.name + ": " + strings.Join(argv, " ")
			r := runEnv(t, k.as, k.env, argv...)
			noCrash(t, what, r)
			if r.code != k.code {
				t.Errorf("%s: exit %d, want %d; stderr %q", what, r.code, k.code, r.stderr)
				continue
			}
			if k.code == 0 {
				continue
			}
			// Notes and warnings may come first; the error is the last
			// line, and every line is nsinspect's.
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			last := lines[len(lines)-1]
			if !strings.Contains(last, k.has) {
				t.Errorf("%s: last stderr line %q; want it to contain %q", what, last, k.has)
			}
			for _, ln := range lines {
				if !strings.HasPrefix(ln, "nsinspect: ") && !strings.Contains(ln, ": expected ") {
					t.Errorf("%s: stray stderr line %q", what, ln)
				}
			}
			// Bad input and an engine that cannot answer print no report.
			if k.code != 4 && r.stdout != "" {
				t.Errorf("%s: exit %d with a report on stdout: %q", what, k.code, r.stdout)
			}
		}
	}
}

// runEnv is runAs with extra environment variables.
func runEnv(t testing.TB, attr *syscall.SysProcAttr, env []string, args ...string) result {
	t.Helper()
	cmd := testutil.Command(t, testutil.Quick, binary, args...)
	cmd.SysProcAttr = attr
	cmd.Env = append(os.Environ(), env...)
	return runCmd(t, cmd)
}

// TestWriteErrors: every command whose report cannot be written says so
// and exits 5, in text and JSON; a closed pipe ends it quietly.
func TestWriteErrors(t *testing.T) {
	testutil.RequireRoot(t)
	me := strconv.Itoa(os.Getpid())
	for _, argv := range [][]string{
		{"clone", "CLONE_NEWNET"}, {"unshare", "CLONE_NEWUTS"}, {"explain", "CLONE_NEWNET"},
		{"show", me}, {"audit", me}, {"fds", me}, {"compare", me, "self"}, {"ls"}, {"nsproxy"},
		{"kthreads"}, {"features"}, {"struct", "nsproxy"}, {"graph"}, {"--help"},
		{"clone", "CLONE_NEWNET", "--json"}, {"show", me, "--json"}, {"audit", me, "--json"},
	} {
		what := strings.Join(argv, " ") + " > /dev/full"
		full, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		cmd := testutil.Command(t, testutil.Quick, binary, argv...)
		var errb strings.Builder
		cmd.Stdout, cmd.Stderr = full, &errb
		err = cmd.Run()
		full.Close()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if code != 5 || !strings.Contains(errb.String(), "nsinspect: write /dev/stdout: no space left on device") {
			t.Errorf("%s: exit %d, stderr %q; want 5 and the write error", what, code, errb.String())
		}
	}
}

// TestBadPolicyReportsEveryError: every error of a policy file is on a
// line of its own at FILE:LINE:COL, not the first and a count.
func TestBadPolicyReportsEveryError(t *testing.T) {
	testutil.RequireRoot(t)
	pol := writePolicy(t, "version: 1\nrules:\n  - name: a\n    bogus: 1\n  - name: b\n    match: {nme: x}\n    expect: {seccomp: filter}\n")
	r := nsinspect(t, "audit", "self", "--policy", pol)
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if r.code != 2 || len(lines) != 3 {
		t.Fatalf("exit %d, %d stderr lines; want 2 and 3 (rule a: unknown key and no expect; rule b: unknown key):\n%s", r.code, len(lines), r.stderr)
	}
	for _, want := range []string{pol + ":3:5: ", pol + ":4:5: unknown key \"bogus\"", pol + ":6:13: unknown key \"nme\""} {
		if !strings.Contains(r.stderr, "nsinspect: bad policy: "+want) {
			t.Errorf("no line %q in:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr, "more errors") {
		t.Errorf("errors summarised instead of listed:\n%s", r.stderr)
	}
}
