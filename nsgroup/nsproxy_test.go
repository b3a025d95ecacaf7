package nsgroup

import (
	"os"
	"slices"
	"testing"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

// record makes a Task whose links have the given ids (missing links get
// id 1).
func record(pid, tid int, ids map[string]uint64) *model.Task {
	t := &model.Task{PID: pid, TID: tid, Comm: "t", State: 'S'}
	for _, l := range namespaces.Links {
		id, ok := ids[l.Name]
		if !ok {
			id = 1
		}
		t.NS = append(t.NS, &model.Namespace{NS: namespaces.NS{Type: l.Type, ID: id}})
		t.Missing = append(t.Missing, "")
	}
	return t
}

func TestByNSProxyRecords(t *testing.T) {
	unreadable := record(9, 9, nil)
	for i := range unreadable.NS {
		unreadable.NS[i], unreadable.Missing[i] = nil, "ptrace access refused: permission denied"
	}
	zombie := record(10, 10, nil)
	zombie.State = 'Z'
	for i, l := range namespaces.Links {
		if l.Name != "pid" && l.Name != "user" {
			zombie.NS[i], zombie.Missing[i] = nil, "zombie"
		}
	}
	g := ByNSProxy([]*model.Task{
		record(1, 1, nil),
		record(2, 2, nil),
		record(3, 3, map[string]uint64{"net": 7}),
		record(3, 4, map[string]uint64{"net": 7, "pid": 5}), // pid is not in nsproxy
		record(6, 6, map[string]uint64{"time": 8}),
		record(7, 7, map[string]uint64{"time_for_children": 8}),
		record(8, 8, map[string]uint64{"user": 9}), // user is in cred
		unreadable,
		zombie,
	})
	want := [][]int{{1, 2, 8}, {3, 4}, {6}, {7}}
	if len(g.Sets) != len(want) {
		t.Fatalf("%d sets, want %d: %+v", len(g.Sets), len(want), g.Sets)
	}
	for i, w := range want {
		if got := tids(g.Sets[i]); !slices.Equal(got, w) {
			t.Errorf("set %d: tasks %v, want %v", i, got, w)
		}
	}
	if g.InitSet != 0 || !g.Sets[0].Init {
		t.Errorf("init set %d, want 0", g.InitSet)
	}
	if ctx := g.Sets[1].Context[0]; ctx.Link != "pid" || len(ctx.NS) != 2 {
		t.Errorf("set 1 pid context %+v, want two pid namespaces", ctx)
	}
	if len(g.Unreadable) != 1 || g.Unreadable[0].PID != 9 {
		t.Errorf("unreadable %+v, want 9", g.Unreadable)
	}
	if len(g.Zombies) != 1 || g.Zombies[0].PID != 10 || len(g.Zombies[0].Pins) != 2 {
		t.Errorf("zombies %+v, want 10 pinning pid and user", g.Zombies)
	}
	if g := ByNSProxy([]*model.Task{zombie}); g.InitSet != -1 || g.InitNote == "" {
		t.Errorf("without pid 1: init set %d note %q, want -1 and a note", g.InitSet, g.InitNote)
	}
}

func tids(s Set) []int {
	var out []int
	for _, r := range s.Tasks {
		out = append(out, r.TID)
	}
	return out
}

// TestByNSProxyUnshare makes processes in new namespace combinations with
// unshare(1) and checks that each combination is a set of its own holding
// exactly those processes. Other tests' processes come and go meanwhile;
// the sets checked are made of namespaces only this test's processes use.
func TestByNSProxyUnshare(t *testing.T) {
	net, _ := testutil.Unshare(t, "--net")
	netUTS, _ := testutil.Unshare(t, "--net", "--uts")
	ipcParent, ipcChild := testutil.Unshare(t, "--ipc", "--fork")
	// unshare(CLONE_NEWPID) changes only pid_for_children: parent and
	// child have one nsproxy set but different pid namespaces.
	pidParent, pidChild := testutil.Unshare(t, "--pid", "--fork", "--mount-proc")
	// unshare(CLONE_NEWTIME) changes only time_for_children: the parent
	// keeps the old time namespace, so parent and child differ in time.
	timeParent, timeChild := testutil.Unshare(t, "--time", "--uts", "--fork")

	m, err := discover.Discover(discover.Options{Tasks: true})
	if err != nil {
		t.Fatal(err)
	}
	g := ByNSProxy(m.Tasks)
	want := [][]int{{net}, {netUTS}, {ipcParent, ipcChild}, {pidParent, pidChild}, {timeParent}, {timeChild}}
	seen := map[int]bool{}
	for _, w := range want {
		i := setOf(g, w[0])
		if i < 0 {
			t.Fatalf("pid %d is in no set", w[0])
		}
		if seen[i] {
			t.Errorf("pids %v share a set with another combination", w)
		}
		seen[i] = true
		if got := tids(g.Sets[i]); !slices.Equal(got, w) {
			t.Errorf("set of pid %d has tasks %v, want exactly %v", w[0], got, w)
		}
	}
	if i := setOf(g, os.Getpid()); seen[i] {
		t.Errorf("the test's own set %d is one of the new combinations", i)
	}
	if pidSet := g.Sets[setOf(g, pidParent)]; len(pidSet.Context[0].NS) != 2 {
		t.Errorf("unshare --pid set: pid context %+v, want the parent's and the child's pid namespaces", pidSet.Context[0])
	}
	// pid 1 may hold capabilities this test lacks (a sandbox's init):
	// then its set must be reported unreadable, not guessed.
	var init *model.Task
	for _, task := range m.Tasks {
		if task.TID == 1 {
			init = task
		}
	}
	switch {
	case init == nil:
		t.Fatal("pid 1 is not among the tasks")
	case init.NS[0] == nil:
		if g.InitSet != -1 || g.InitNote == "" {
			t.Errorf("pid 1 unreadable (%s) but init set %d, note %q", init.Missing[0], g.InitSet, g.InitNote)
		}
	case g.InitSet < 0 || !slices.Contains(tids(g.Sets[g.InitSet]), 1):
		t.Errorf("pid 1 readable but init set %d: %s", g.InitSet, g.InitNote)
	}
}

func setOf(g Groups, pid int) int {
	for i, s := range g.Sets {
		for _, r := range s.Tasks {
			if r.TID == pid {
				return i
			}
		}
	}
	return -1
}
