package features

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestProbesAgreeWithRelease pins each probe against the kernel it runs
// on: an interface is present exactly when the running release is at
// least the one that added it. The kernel matrix (scripts/kernel-matrix.sh)
// runs this on 6.1, 6.12 and the host's kernel, which is what makes the
// Since column a measured fact rather than a recollection. Interfaces a
// kernel may be configured without (kcmp, BTF) are only required to
// decide.
func TestProbesAgreeWithRelease(t *testing.T) {
	if os.Getenv("NSINSPECT_PRETEND_MISSING") != "" {
		t.Fatal("NSINSPECT_PRETEND_MISSING is set: unset it, this test reads the real kernel")
	}
	running, ok := version(Kernel().Release)
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
		since, ok := version(r.Since)
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

// version reads "6.1.0-27-cloud-amd64" or "5.3" as {6, 1}.
func version(s string) ([2]int, bool) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return [2]int{}, false
	}
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	a, err1 := strconv.Atoi(parts[0])
	b, err2 := strconv.Atoi(minor)
	return [2]int{a, b}, err1 == nil && err2 == nil
}

func less(a, b [2]int) bool { return a[0] < b[0] || a[0] == b[0] && a[1] < b[1] }
