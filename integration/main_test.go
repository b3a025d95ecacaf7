package integration

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// binary is the nsinspect under test, built (or copied from $NSINSPECT_BIN)
// once for the whole package by TestMain.
var binary string

func TestMain(m *testing.M) {
	if os.Getenv(confineEnv) != "" {
		confineAndExec() // never returns
	}
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
	if err := provide(binary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// provide puts the nsinspect under test at path: a copy of $NSINSPECT_BIN
// when it is set (a prebuilt binary, for machines with no Go toolchain such
// as the busybox VMs), else one built from ../cmd/nsinspect. Copying keeps
// the binary in the test's own directory, which the tests may chmod and run
// as nobody, and leaves the caller's file alone.
func provide(path string) error {
	src := os.Getenv("NSINSPECT_BIN")
	if src == "" {
		ctx, cancel := context.WithTimeout(context.Background(), testutil.Slow)
		defer cancel()
		build := exec.CommandContext(ctx, "go", "build", "-o", path, "../cmd/nsinspect")
		if _, err := testutil.Output(build); err != nil {
			return fmt.Errorf("building nsinspect: %w (or set NSINSPECT_BIN to a prebuilt binary)", err)
		}
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("NSINSPECT_BIN: %w", err)
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return fmt.Errorf("NSINSPECT_BIN: %w", err)
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("NSINSPECT_BIN=%s is not a regular file", src)
	}
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return fmt.Errorf("copying NSINSPECT_BIN: %w", err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return fmt.Errorf("copying NSINSPECT_BIN=%s: %w", src, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("copying NSINSPECT_BIN=%s: %w", src, err)
	}
	return nil
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
	cmd := testutil.Command(t, testutil.Quick, binary, args...)
	cmd.SysProcAttr = attr
	return runCmd(t, cmd)
}

// runCmd runs a prepared command (made by testutil.Command) and returns
// what it printed and its exit code; it fails the test, with the
// command's stderr, only if the command could not be run or was killed
// by a signal (as at its timeout), or if it printed a JSON document that
// does not match its schema (checkContract).
func runCmd(t testing.TB, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() < 0 {
			t.Fatal(testutil.CommandError(cmd, err, time.Since(start), r.stderr))
		}
		r.code = ee.ExitCode()
	}
	if r.code >= 0 { // -1: killed by a signal, which may cut a document short
		checkContract(t, cmd.Args, r.stdout)
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
