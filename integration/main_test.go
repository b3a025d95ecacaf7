package integration

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
	cmd := exec.Command(binary, args...)
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
