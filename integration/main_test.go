package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// binary is the nsinspect built once for the whole package by TestMain.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "nsinspect-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// Tests run the binary as nobody too: the directory must be reachable.
	if err := os.Chmod(dir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "nsinspect")
	build := exec.Command("go", "build", "-o", binary, "../cmd/nsinspect")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building nsinspect:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is one run of the binary.
type result struct {
	stdout, stderr string
	code           int
}

// nsinspect runs the built binary with args and returns what it printed and
// its exit code; it fails the test only if the binary could not be run.
func nsinspect(t testing.TB, args ...string) result {
	t.Helper()
	return runAs(t, nil, args...)
}

// runAs is nsinspect with the given credentials (nil: ours).
func runAs(t testing.TB, attr *syscall.SysProcAttr, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.SysProcAttr = attr
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("running nsinspect %v: %v", args, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// mustRun is nsinspect that also requires exit code 0.
func mustRun(t testing.TB, args ...string) string {
	t.Helper()
	r := nsinspect(t, args...)
	if r.code != 0 {
		t.Fatalf("nsinspect %v: exit %d\nstderr: %s", args, r.code, r.stderr)
	}
	return r.stdout
}

// nobody runs a command as uid/gid 65534.
func nobody() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
}

// checkOneLineError asserts exit code, a single line on stderr and no Go
// crash output.
func checkOneLineError(t *testing.T, r result, code int, what string) {
	t.Helper()
	if r.code != code {
		t.Errorf("%s: exit %d, want %d (stderr %q)", what, r.code, code, r.stderr)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 || lines[0] == "" {
		t.Errorf("%s: stderr is not one line: %q", what, r.stderr)
	}
	if strings.Contains(r.stderr, "goroutine") || strings.Contains(r.stderr, "panic") {
		t.Errorf("%s: crash output: %q", what, r.stderr)
	}
}
