//go:build cgo

package clone

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// TestNoFDLeak parks experiments and checks, against /proc/PID/fd read
// here directly, that parent and child hold exactly what the report says
// they hold (snapshotPair, the report's source), and that this is only
// what the experiment needs: 0-2 on /dev/null and the four pipe ends of
// the two command channels (3-6), plus CLONE_PIDFD's pidfd in the parent.
// Nothing of the caller's (its pidfds, /proc dirfds, files) leaks in.
func TestNoFDLeak(t *testing.T) {
	testutil.RequireRoot(t)
	z := hostZygote(t)
	for _, fl := range []string{"files", "newnet,newns", "pidfd", "vm,sighand", "fs", "newuser,newpid", "vfork"} {
		fs, err := flags.Parse(fl)
		if err != nil {
			t.Fatal(err)
		}
		// Something of ours that must not reach the experiment.
		decoy, err := os.Open("/etc/hostname")
		if err != nil {
			t.Fatal(err)
		}
		before := ownPipes(t)
		p, err := startPair(z, fs, false, -1)
		if err != nil {
			decoy.Close()
			t.Fatalf("%s: %v", fl, err)
		}
		// The experiment's four pipes are the ones we hold since startPair.
		pipes := map[string]bool{}
		for pipe := range ownPipes(t) {
			if !before[pipe] {
				pipes[pipe] = true
			}
		}
		if len(pipes) != 4 {
			t.Errorf("%s: startPair added pipes %v, want the four of the two command channels", fl, pipes)
		}
		parentRep, childRep := snapshotPair(p.parentProc, p.childProc, true)
		for _, s := range []struct {
			name string
			pid  int
			rep  *report.Side
		}{{"parent", p.parentPID, parentRep}, {"child", p.childPID, childRep}} {
			got := testutil.FDs(t, s.pid)
			want := map[int]string{0: "/dev/null", 1: "/dev/null", 2: "/dev/null"}
			for fd := 3; fd <= 6; fd++ {
				if !pipes[got[fd]] {
					t.Errorf("%s %s: fd %d is %q, not one of the experiment's pipes %v", fl, s.name, fd, got[fd], pipes)
				}
				want[fd] = got[fd]
			}
			pidfdHolder := s.name == "parent" || fs.Has(unix.CLONE_FILES)
			if fs.Has(unix.CLONE_PIDFD) && pidfdHolder {
				if got[p.parentPidfd] != "anon_inode:[pidfd]" {
					t.Errorf("%s %s: CLONE_PIDFD's fd %d is %q", fl, s.name, p.parentPidfd, got[p.parentPidfd])
				}
				want[p.parentPidfd] = got[p.parentPidfd]
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s %s (pid %d): /proc fds %v, want only %v", fl, s.name, s.pid, got, want)
			}
			reported := map[int]string{}
			for _, f := range s.rep.FDs {
				reported[f.FD] = f.Target
			}
			if fmt.Sprint(reported) != fmt.Sprint(got) {
				t.Errorf("%s %s: report says fds %v, /proc says %v", fl, s.name, reported, got)
			}
		}
		p.stop()
		decoy.Close()
	}
}

// ownPipes is the set of pipes this process holds, "pipe:[INO]". An fd
// that is gone by the time it is read (the directory's own, the Go
// runtime's) is no pipe of the experiment's.
func ownPipes(t *testing.T) map[string]bool {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, e := range ents {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "pipe:[") {
			out[l] = true
		}
	}
	return out
}

// The lab holds the same fds in its last experiment as in its first: a
// matrix of experiments in one lab leaks no pin, pipe or netlink socket.
// Each report's inspector_fds is the lab's /proc/self/fd while the pair
// was parked, so the pins and pipes of that one experiment are in it.
func TestLabFDsDoNotGrow(t *testing.T) {
	testutil.RequireRoot(t)
	set := []flags.Set{}
	for i := 0; i < 12; i++ {
		for _, s := range []string{"files", "newnet,newipc", "vm,sighand,thread", "pidfd", "sighand"} {
			f, _ := flags.Parse(s)
			set = append(set, f)
		}
	}
	// One worker, so that each report's inspector fds are one
	// experiment's: with several, the others' pins and pipes come and go
	// in the same fd table (the parallel run is checked below).
	old := runtime.GOMAXPROCS(1)
	reps, err := RunMatrix(Request{Probes: true}, set)
	runtime.GOMAXPROCS(old)
	if err != nil {
		t.Fatal(err)
	}
	byFlags := map[uint64][]int{}
	fdsOf := map[uint64][][]string{} // each experiment's fd targets, to say which differ
	for _, r := range reps {
		if r.Errno == nil {
			byFlags[r.Value] = append(byFlags[r.Value], len(r.Inspector))
			var targets []string
			for _, f := range r.Inspector {
				targets = append(targets, fmt.Sprintf("%d:%s", f.FD, f.Target))
			}
			fdsOf[r.Value] = append(fdsOf[r.Value], targets)
		}
	}
	for v, counts := range byFlags {
		if len(counts) < 2 {
			t.Fatalf("%s: %d experiments", flags.Set(v), len(counts))
		}
		if counts[0] == 0 || counts[len(counts)-1] != counts[0] {
			all := fdsOf[v]
			t.Errorf("%s: the lab held %v fds across %d experiments, want the same number each time; the first's %v, the last's %v", flags.Set(v), counts, len(counts), all[0], all[len(all)-1])
		}
	}
	last := reps[len(reps)-2] // the last made experiment ("pidfd")
	pins := 0
	for _, f := range last.Inspector {
		if strings.HasPrefix(f.Target, "/proc/") {
			pins++
		}
	}
	if pins == 0 || pins > 8 {
		t.Errorf("the lab holds %d /proc fds during one experiment: %+v", pins, last.Inspector)
	}
}

// A matrix on several labs at once leaves this process's fd table as it
// found it: every worker's zygote socket, pins and pipes are closed.
func TestParallelMatrixFDs(t *testing.T) {
	testutil.RequireRoot(t)
	set := []flags.Set{}
	for i := 0; i < 8; i++ {
		for _, s := range []string{"files", "newnet,newipc", "vm,sighand,thread", "pidfd", "parent", "sighand"} {
			f, _ := flags.Parse(s)
			set = append(set, f)
		}
	}
	old := runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
	defer runtime.GOMAXPROCS(old)
	if w := matrixWorkers(len(set)); w < 2 {
		t.Fatalf("matrixWorkers = %d, want at least 2 for this test", w)
	}
	before := fdCount(t)
	reps, err := RunMatrix(Request{Identity: true}, set)
	if err != nil {
		t.Fatal(err)
	}
	Reap()
	for i, r := range reps {
		if r == nil || r.Value != uint64(set[i]) {
			t.Fatalf("report %d is not for %s: %+v", i, set[i], r)
		}
		if len(r.Disagreements) > 0 {
			t.Errorf("%s: %v", set[i], r.Disagreements)
		}
	}
	if after := fdCount(t); after != before {
		t.Errorf("%d fds before the matrix, %d after", before, after)
	}
	testutil.NoChildren(t)
}

// fdCount counts this process's open fds (the directory's own included,
// the same each time).
func fdCount(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}
