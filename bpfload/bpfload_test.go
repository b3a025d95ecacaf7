package bpfload

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
)

// RaiseMemlock leaves the limit alone where the kernel charges BPF memory
// to the memory cgroup (5.11+), raises it where it does not, and puts it
// back either way.
func TestRaiseMemlockRestores(t *testing.T) {
	var before, during, after unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_MEMLOCK, &before); err != nil {
		t.Fatal(err)
	}
	restore, err := RaiseMemlock()
	if err != nil {
		t.Fatal(err)
	}
	unix.Getrlimit(unix.RLIMIT_MEMLOCK, &during)
	restore()
	unix.Getrlimit(unix.RLIMIT_MEMLOCK, &after)
	if after != before {
		t.Errorf("RLIMIT_MEMLOCK %+v after restore, was %+v", after, before)
	}
	charged := features.Probe(features.BPFMemcg).Present
	switch {
	case charged != nil && *charged && during != before:
		t.Errorf("BPF memory is charged to the memory cgroup here, yet RLIMIT_MEMLOCK was changed to %+v", during)
	case (charged == nil || !*charged) && during.Cur <= before.Cur && before.Cur != during.Max:
		t.Errorf("BPF memory is charged to RLIMIT_MEMLOCK here, yet it stayed %+v", during)
	}
}

func TestReleaseIsUname(t *testing.T) {
	if r := Release(); r == "" || r == "?" {
		t.Errorf("Release() = %q", r)
	}
}
