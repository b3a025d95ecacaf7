package flags

import (
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

// The one release-dependent expectation: CLONE_NEWTIME|CLONE_VM keeps the
// child in the parent's time namespace from 6.2 on, not on 6.1
// (docs/kernel-notes.md); every other resource follows its flag.
func TestExpectedByRelease(t *testing.T) {
	s := Set(unix.CLONE_NEWTIME | unix.CLONE_VM | unix.CLONE_NEWNET)
	for _, c := range []struct {
		rel        Release
		timeShared bool
	}{{Release{6, 1}, false}, {Release{6, 2}, true}, {Release{6, 18}, true}, {Release{7, 0}, true}, {Release{}, false}} {
		got := Expected(s, c.rel)
		if got["time"] != c.timeShared || got["time_for_children"] || got["net"] || !got["vm"] || got["files"] || !got["uts"] {
			t.Errorf("Linux %d.%d: %v, want time shared=%v, time_for_children and net separate, vm shared", c.rel[0], c.rel[1], got, c.timeShared)
		}
		if why := ExpectedReason(s, c.rel, "time"); why == "" || why == "CLONE_NEWTIME given" {
			t.Errorf("Linux %d.%d: time's reason %q does not name the CLONE_VM rule", c.rel[0], c.rel[1], why)
		}
	}
	if got := Expected(Set(unix.CLONE_NEWTIME), Release{6, 18}); got["time"] {
		t.Error("CLONE_NEWTIME without CLONE_VM: time expected shared")
	}
	if len(Expected(0, Release{6, 18})) != 16 {
		t.Errorf("Expected has %d resources, want 16", len(Expected(0, Release{6, 18})))
	}
	if r := ExpectedReason(Set(unix.CLONE_FILES), Release{6, 18}, "files"); r != "CLONE_FILES given" {
		t.Errorf("files reason %q", r)
	}
	if r := ExpectedReason(0, Release{6, 18}, "net"); r != "no CLONE_NEWNET" {
		t.Errorf("net reason %q", r)
	}
}

// Explain and Restrictions read one table: every rule Restrictions lists
// for a flag explains that errno for some call with that flag.
func TestRestrictionsAgreeWithExplain(t *testing.T) {
	if got := Explain(Set(unix.CLONE_SIGHAND), unix.EINVAL); len(got) != 1 {
		t.Errorf("CLONE_SIGHAND alone, EINVAL: %q, want the CLONE_VM rule", got)
	}
	if got := Explain(Set(unix.CLONE_NEWNET), unix.EINVAL); len(got) != 0 {
		t.Errorf("CLONE_NEWNET, EINVAL: %q, want no rule", got)
	}
	flags := append(append([]Flag{}, Known...), LeftOut...)
	for _, f := range flags {
		for _, r := range Restrictions(f.Value) {
			found := false
			for _, g := range append([]Flag{{}}, flags...) {
				if slices.Contains(Explain(Set(f.Value|g.Value), errnoByName(t, r.Errno)), r.Why) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s: restriction %s %q explains no call with it", f.Name, r.Errno, r.Why)
			}
		}
	}
}

func errnoByName(t *testing.T, name string) unix.Errno {
	t.Helper()
	for e := unix.Errno(1); e < 4096; e++ {
		if unix.ErrnoName(e) == name {
			return e
		}
	}
	t.Fatalf("no errno %s", name)
	return 0
}

func TestMatrices(t *testing.T) {
	// 19 flags (CLONE_INTO_CGROUP needs a cgroup): 19 singles + 171 pairs.
	if n := len(DefaultMatrix()); n != 190 {
		t.Errorf("DefaultMatrix has %d sets, want 190", n)
	}
	if n := len(AllMatrix()); n != 1<<14-1 {
		t.Errorf("AllMatrix has %d sets, want %d", n, 1<<14-1)
	}
}

func TestUnshareChanges(t *testing.T) {
	s := Set(unix.CLONE_NEWPID | unix.CLONE_NEWTIME | unix.CLONE_NEWNET)
	want := map[string]bool{"pid": false, "time": false, "pid_for_children": true, "time_for_children": true, "net": true, "uts": false}
	for link, w := range want {
		if got := UnshareChanges(s, link); got != w {
			t.Errorf("unshare(%s): %s changes = %v, want %v", s, link, got, w)
		}
	}
	if left, ok := ThreadLeaves(Set(unix.CLONE_NEWIPC), "sysvsem"); !ok || !left {
		t.Errorf("unshare(CLONE_NEWIPC) on a thread: sysvsem left=%v ok=%v, want it to leave the undo list", left, ok)
	}
}
