package testutil

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether the tests run in CI (CI=true), where a test that
// cannot run must fail rather than skip: a suite that skips its kernel
// tests checks nothing.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable stops a test that cannot run here: a failure under CI=true, a
// skip with how-to-run advice elsewhere.
func Unavailable(t testing.TB, why, howToRun string) {
	t.Helper()
	if InCI() {
		t.Fatalf("cannot run under CI=true: %s", why)
	}
	t.Skipf("%s; to run it: %s", why, howToRun)
}

// RequireRoot stops the test unless it runs with uid 0.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		Unavailable(t, "needs root (CAP_SYS_ADMIN for namespaces, CAP_SYS_PTRACE for kcmp)", "sudo -E go test ./...")
	}
}

// RequireCommand stops the test unless name is on PATH, and returns its path.
func RequireCommand(t testing.TB, name, debianPackage string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, name+" is not installed", "apt-get install "+debianPackage)
	}
	return p
}
