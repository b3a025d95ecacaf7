package integration

import (
	"encoding/json"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// bpfListing is what bpftool -j prog/map/link list says of one object:
// its id, name, and for a program its maps, for a link its program.
type bpfListing struct {
	ID     int    `json:"id"`
	Name   string `json:"name"`
	MapIDs []int  `json:"map_ids"`
	ProgID int    `json:"prog_id"`
}

func bpftoolList(t *testing.T, kind string) []bpfListing {
	t.Helper()
	out := testutil.MustRun(t, testutil.Command(t, testutil.Quick, "bpftool", "-j", kind, "list"))
	var all []bpfListing
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatalf("bpftool -j %s list: %v in %q", kind, err, out)
	}
	return all
}

// TestWatchKilledLeavesNothing SIGKILLs `watch` twenty times, each once
// its programs are attached, and then looks for what any of those
// runs loaded: every program it saw with the tracer's nst_ prefix, every
// map those programs used, every link to one of them. All must be gone,
// since nothing is pinned and everything lives in the process's fds.
func TestWatchKilledLeavesNothing(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "bpftool", "bpftool")
	before := tracerProgs(t)
	progs := map[int]bool{}
	maps := map[int]bool{}
	seen := 0 // programs of all runs
	want := tracerPrograms(t)
	for run := range 20 {
		cmd := testutil.Command(t, testutil.Quick, binary, "watch", "--json")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		got := waitProgs(t, before, want)
		if len(got) != want {
			t.Fatalf("watch run %d: %d new nst_ programs, want %d: %+v", run, len(got), want, got)
		}
		seen += len(got)
		for _, p := range bpftoolList(t, "prog") {
			if slices.ContainsFunc(got, func(o bpfObject) bool { return o.ID == p.ID }) {
				progs[p.ID] = true
				for _, m := range p.MapIDs {
					maps[m] = true
				}
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if left := waitProgs(t, before, 0); len(left) != 0 {
			t.Fatalf("watch run %d: programs left after SIGKILL: %+v", run, left)
		}
	}
	if len(progs) != seen || len(maps) == 0 {
		t.Fatalf("saw %d programs and %d maps over 20 runs, want %d programs and their maps", len(progs), len(maps), seen)
	}
	// Maps and links go when their last reference does, which the kernel
	// may drop a moment after the programs (deferred freeing).
	var leftMaps, leftLinks []bpfListing
	for range 50 {
		leftMaps = slices.DeleteFunc(bpftoolList(t, "map"), func(m bpfListing) bool { return !maps[m.ID] })
		leftLinks = slices.DeleteFunc(bpftoolList(t, "link"), func(l bpfListing) bool { return !progs[l.ProgID] })
		if len(leftMaps)+len(leftLinks) == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("after 20 SIGKILLed watch runs: maps left %+v, links left %+v", leftMaps, leftLinks)
}
