package features

import (
	"os"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// TestProbesAgreeWithRelease pins each probe against the kernel it runs
// on: an interface is present exactly when the running release is at
// least the one that added it. The kernel matrix (scripts/kernel-matrix.sh)
// runs this on 6.1, 6.12 and the host's kernel, which is what makes the
// Since column a measured fact rather than a recollection. Interfaces a
// kernel may be configured without (kcmp, BTF) are only required to
// decide.
func TestProbesAgreeWithRelease(t *testing.T) {
	testutil.CheckLeaks(t)
	if os.Getenv("NSINSPECT_PRETEND_MISSING") != "" {
		t.Fatal("NSINSPECT_PRETEND_MISSING is set: unset it, this test reads the real kernel")
	}
	running, ok := Version(Kernel().Release)
	if !ok {
		t.Fatalf("cannot read a version from the release %q", Kernel().Release)
	}
	for _, r := range All() {
		if r.Present == nil {
			t.Errorf("%s: the probe did not decide: %s", r.Name, r.Evidence)
			continue
		}
		if strings.Contains(r.Since, "CONFIG_") {
			continue
		}
		since, ok := Version(r.Since)
		if !ok {
			t.Fatalf("%s: bad Since %q", r.Name, r.Since)
		}
		if want := !less(running, since); *r.Present != want {
			t.Errorf("%s (since %s) on Linux %s: present %t, want %t (%s)", r.Name, r.Since, Kernel().Release, *r.Present, want, r.Evidence)
		}
	}
}

func TestPretendMissing(t *testing.T) {
	t.Setenv("NSINSPECT_PRETEND_MISSING", "nope, clone3")
	if !pretendMissing("clone3") || pretendMissing("kcmp") || pretendMissing("") {
		t.Error("NSINSPECT_PRETEND_MISSING is not read as a comma-separated list of names")
	}
}

func TestMissingError(t *testing.T) {
	err := &MissingError{Feature: Feature{Name: "clone3", Since: "5.3"}, For: "CLONE_NEWTIME"}
	msg := err.Error()
	for _, want := range []string{"CLONE_NEWTIME needs clone3", "Linux 5.3", "nsinspect features"} {
		if !strings.Contains(msg, want) {
			t.Errorf("%q lacks %q", msg, want)
		}
	}
}

func less(a, b [2]int) bool { return a[0] < b[0] || a[0] == b[0] && a[1] < b[1] }

func TestVersion(t *testing.T) {
	for in, want := range map[string][2]int{"6.1.0-57-cloud-amd64": {6, 1}, "6.12.113+deb12-cloud-arm64": {6, 12}, "5.3": {5, 3}, "6.18.44-fc-v1045": {6, 18}} {
		if got, ok := Version(in); !ok || got != want {
			t.Errorf("Version(%q) = %v, %t; want %v", in, got, ok, want)
		}
	}
	if _, ok := Version("bogus"); ok {
		t.Error(`Version("bogus") succeeded`)
	}
}
