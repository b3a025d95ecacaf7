package tracer

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// Open leaves the programs that see an unshare running on every CPU this
// process may use: the tracer's own unshare(0) reaches both.
func TestVerifyCalls(t *testing.T) {
	testutil.RequireRoot(t)
	hooks := []Hooks{HooksRawTracepoints}
	if p := features.Probe(features.BPFTrampolines); p.Present != nil && *p.Present {
		hooks = append(hooks, HooksFentry)
	}
	for _, h := range hooks {
		tr, err := Open(Options{Follow: true, Hooks: h})
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		cpus, err := allowedCPUs()
		if err != nil {
			t.Fatal(err)
		}
		missed, err := tr.probeCalls(cpus)
		tr.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(missed[0])+len(missed[1]) != 0 {
			t.Errorf("%s: after Open the entry program missed CPUs %v, the return program %v", h, missed[0], missed[1])
		}
		t.Logf("%s: %d CPUs checked, attached again %d times", h, len(cpus), tr.reattached)
	}
}

// A system call program the kernel does not run is attached again. The
// kernel's silence (seen now and then on arm64) cannot be made on
// purpose, so the test detaches the entry and the return programs, which
// looks the same from here: the probe must miss them on every CPU, and
// verifyCalls must attach them once more, after which an unshare is an
// event again.
func TestVerifyCallsReattaches(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	tr := openSilenced(t)
	defer tr.Close()
	cpus, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	missed, err := tr.probeCalls(cpus)
	if err != nil {
		t.Fatal(err)
	}
	for slot, on := range missed {
		if len(on) != len(cpus) {
			t.Errorf("the detached %s program was seen on some CPU: missed %v of %v", probeSlots[slot], on, cpus)
		}
	}
	reverify(t, tr)
	var un *Event
	for _, e := range run(t, tr, "unshare", "-n", "true") {
		if e.Kind == Unshare {
			un = e
		}
	}
	if un == nil || un.Flags != unix.CLONE_NEWNET || un.Errno != 0 {
		t.Fatalf("after attaching again: unshare event %+v, want one with CLONE_NEWNET", un)
	}
}

// Where the probe's own unshare(0) is refused (a seccomp profile without
// CAP_SYS_ADMIN), the tracer still opens, and Gaps says its programs
// were not checked and why, instead of calling them fine.
func TestVerifyCallsProbeRefused(t *testing.T) {
	testutil.RequireRoot(t)
	defer func(f func() error) { probeCall = f }(probeCall)
	probeCall = func() error { return unix.EPERM }
	tr, err := Open(Options{Follow: true})
	if err != nil {
		t.Fatalf("with the probe refused: %v", err)
	}
	defer tr.Close()
	gaps := strings.Join(tr.Gaps(), "; ")
	if !strings.Contains(gaps, "not checked: nsinspect's own unshare(0) was refused: operation not permitted") {
		t.Errorf("gaps %q do not say the programs were not checked", gaps)
	}
}

// A thread that cannot be moved to any CPU still checks the programs,
// wherever it runs: the detached entry and return programs are found
// silent and attached again.
func TestVerifyCallsUnpinned(t *testing.T) {
	testutil.RequireRoot(t)
	defer func(f func(int) error) { pinTo = f }(pinTo)
	pinTo = func(int) error { return unix.EINVAL }
	tr := openSilenced(t)
	defer tr.Close()
	reverify(t, tr)
	cpus, err := allowedCPUs()
	if err != nil {
		t.Fatal(err)
	}
	if missed, err := tr.probeCalls(cpus); err != nil || len(missed[0])+len(missed[1]) != 0 {
		t.Errorf("after attaching again, unpinned: missed %v, %v", missed, err)
	}
}

// openSilenced opens a following tracer and detaches its entry and return
// programs, which from user space looks like the kernel not running them.
func openSilenced(t *testing.T) *Tracer {
	t.Helper()
	tr, err := Open(Options{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range tr.probed {
		if err := tr.links[i].Close(); err != nil {
			tr.Close()
			t.Fatal(err)
		}
	}
	return tr
}

// reverify runs verifyCalls, which must attach the programs again once.
func reverify(t *testing.T, tr *Tracer) {
	t.Helper()
	before := tr.reattached
	if err := tr.verifyCalls(); err != nil {
		t.Fatal(err)
	}
	if tr.reattached != before+1 {
		t.Errorf("verifyCalls attached again %d times, want 1", tr.reattached-before)
	}
}
