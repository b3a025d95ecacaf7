package integration

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// requireBPF stops a test that needs the BPF iterators where they cannot
// run (a failure under CI=true).
func requireBPF(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	if err := bpfiter.Probe(); err != nil {
		testutil.Unavailable(t, err.Error(), "run as root on a kernel with BTF (CONFIG_DEBUG_INFO_BTF=y), Linux 5.8+")
	}
}

// bpfObject is one entry of `bpftool -j prog list` or `map list`.
type bpfObject struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// nsiMaps are the names of nsinspect's maps (bpf/tasks.bpf.c and
// fdwalk.bpf.c, and the .rodata and .bss of their globals) as the kernel
// keeps them. Other programs may have maps called .rodata too; the counts
// are compared, not the names alone.
var nsiMaps = []string{"seen", "file_seen", "scratch", "chains", "cfg", ".rodata", ".bss"}

// nsiObjects lists the loaded programs whose name starts with "nsi_" (the
// kernel keeps 15 bytes of a name) and the maps named as nsinspect's.
func nsiObjects(t *testing.T) (progs, maps []bpfObject) {
	t.Helper()
	list := func(kind string, keep func(bpfObject) bool) []bpfObject {
		out := testutil.MustRun(t, testutil.Command(t, testutil.Quick, "bpftool", "-j", kind, "list"))
		var all []bpfObject
		if err := json.Unmarshal([]byte(out), &all); err != nil {
			t.Fatalf("bpftool -j %s list: %v in %q", kind, err, out)
		}
		return slices.DeleteFunc(all, func(o bpfObject) bool { return !keep(o) })
	}
	progs = list("prog", func(o bpfObject) bool { return strings.HasPrefix(o.Name, "nsi_") })
	maps = list("map", func(o bpfObject) bool { return slices.Contains(nsiMaps, o.Name) })
	return progs, maps
}

// newer returns the objects of now that were not in before.
func newer(before, now []bpfObject) []bpfObject {
	return slices.DeleteFunc(slices.Clone(now), func(o bpfObject) bool {
		return slices.ContainsFunc(before, func(b bpfObject) bool { return b.ID == o.ID })
	})
}

// TestBPFLifecycle runs `ls --source bpf --json` again and again and
// SIGKILLs some runs at a random point (0 to 150 ms in, which spans the
// BTF load, the verifier, the iterators and the rendering): afterwards no
// nsi_ program and no map of nsinspect's is left, since nothing is pinned
// and every object lives in the process's fds. The CI size is 30 runs, 10
// of them killed; the full size is 100 runs with 30 killed:
//
//	NSINSPECT_BPF_LIFECYCLE_RUNS=100 go test -run TestBPFLifecycle ./integration
//
// Other programs (this suite's own packages, in parallel) may load nsi_
// programs meanwhile; theirs go away when they finish, so the check waits
// a little for the counts to come back, and what stays is a leak.
func TestBPFLifecycle(t *testing.T) {
	requireBPF(t)
	testutil.RequireCommand(t, "bpftool", "bpftool")
	runs := testutil.Size(t, "NSINSPECT_BPF_LIFECYCLE_RUNS", 30, 10)
	progs0, maps0 := nsiObjects(t)
	pinned0, _ := os.ReadDir("/sys/fs/bpf")
	kill := map[int]bool{}
	for _, i := range rand.Perm(runs)[:max(runs*3/10, min(runs, 10))] {
		kill[i] = true
	}
	killed := 0
	// A kill lands at a random moment of a run: within the shortest
	// clean run so far (a fixed 0-150 ms missed every run once ls got
	// down to 40 ms: 10 kills, all after the exit).
	shortest := time.Duration(0)
	for i := range runs {
		cmd := testutil.Command(t, testutil.Quick, binary, "ls", "--source", "bpf", "--json")
		if !kill[i] || shortest == 0 {
			start := time.Now()
			r := runCmd(t, cmd)
			if r.code != 0 || !strings.Contains(r.stdout, `"source": "bpf"`) {
				t.Fatalf("run %d: exit %d, stderr %q", i, r.code, r.stderr)
			}
			if d := time.Since(start); shortest == 0 || d < shortest {
				shortest = d
			}
			if !kill[i] {
				continue
			}
			cmd = testutil.Command(t, testutil.Quick, binary, "ls", "--source", "bpf", "--json")
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rand.Int64N(int64(shortest * 9 / 10))))
		cmd.Process.Signal(syscall.SIGKILL)
		if err := cmd.Wait(); err != nil {
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				killed++
			}
		}
	}
	t.Logf("%d runs, %d SIGKILLed while running, %d finished before their kill", runs, killed, len(kill)-killed)
	if killed == 0 {
		t.Fatalf("none of the %d kills hit a running nsinspect: the test checked no kill", len(kill))
	}
	// What is new since the start must go; what another loader had then
	// may go too, so the counts may end lower but never higher.
	var progs, maps []bpfObject
	for range 100 { // 10 s for another loader's objects to go
		progs, maps = nsiObjects(t)
		if len(newer(progs0, progs))+len(newer(maps0, maps)) == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("nsi_ programs %d before, %d after; nsinspect's maps %d before, %d after", len(progs0), len(progs), len(maps0), len(maps))
	if left := newer(progs0, progs); len(left) > 0 || len(progs) > len(progs0) {
		t.Errorf("nsi_ programs left loaded: %+v", left)
	}
	if left := newer(maps0, maps); len(left) > 0 || len(maps) > len(maps0) {
		t.Errorf("maps left: %+v", left)
	}
	if pinned, _ := os.ReadDir("/sys/fs/bpf"); len(pinned) != len(pinned0) {
		t.Errorf("bpffs has %d entries after the runs, %d before: something was pinned", len(pinned), len(pinned0))
	}
}
