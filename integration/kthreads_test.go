package integration

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/procinfo"
)

// kernelThreads reads /proc/*/stat by path (no pinning: this is the
// independent view) and returns the PF_KTHREAD tasks under kthreadd.
func kernelThreads(t *testing.T) map[int]procinfo.Stat {
	t.Helper()
	out := map[int]procinfo.Stat{}
	testutil.EachStat(t, func(pid int, stat string) {
		st, err := procinfo.ParseStat(stat)
		if err != nil {
			t.Fatal(err)
		}
		if st.IsKthread() && (pid == 2 || st.PPID == 2) {
			out[pid] = st
		}
	})
	return out
}

// stableComm drops what changes under a kworker's feet: the kernel
// appends the workqueue it last ran ("kworker/1:0-events",
// "kworker/0:1+events" while busy) to its comm.
func stableComm(c string) string {
	if rest, ok := strings.CutPrefix(c, "kworker/"); ok {
		if i := strings.IndexAny(rest, "-+"); i >= 0 {
			return "kworker/" + rest[:i]
		}
	}
	return c
}

// kworkers come and go while tests run: only kernel threads present both
// before and after the command must be in its list, and everything it
// lists must be a kernel thread under kthreadd by the independent read.
func TestKthreads(t *testing.T) {
	testutil.RequireRoot(t)
	before := kernelThreads(t)
	var out struct {
		Source   string `json:"source"`
		Kthreads []struct {
			PID   int    `json:"pid"`
			PPid  int    `json:"ppid"`
			Comm  string `json:"comm"`
			State string `json:"state"`
			CPUs  string `json:"cpus"`
		} `json:"kthreads"`
	}
	if err := json.Unmarshal([]byte(mustRun(t, "kthreads", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	if out.Source != "bpf" && out.Source != "proc" {
		t.Errorf("kthreads --json: source %q, want bpf or proc", out.Source)
	}
	got := out.Kthreads
	after := kernelThreads(t)
	listed := map[int]bool{}
	for _, k := range got {
		listed[k.PID] = true
		b, inBefore := before[k.PID]
		a, inAfter := after[k.PID]
		if !inBefore && !inAfter {
			t.Errorf("listed %+v is not a kernel thread under kthreadd", k)
			continue
		}
		st := b
		if !inBefore {
			st = a
		}
		if k.PPid != st.PPID || stableComm(k.Comm) != stableComm(st.Comm) || k.CPUs == "" || len(k.State) != 1 {
			t.Errorf("listed %+v, /proc says ppid %d comm %q", k, st.PPID, st.Comm)
		}
	}
	for pid, st := range before {
		if _, still := after[pid]; still && !listed[pid] {
			t.Errorf("kernel thread %d (%s) missing", pid, st.Comm)
		}
	}
	if !listed[2] || len(got) < 2 {
		t.Errorf("kthreadd or its children missing: %d listed", len(got))
	}
}
