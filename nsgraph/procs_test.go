package nsgraph

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/sharing"
)

// TestProcessesGraph draws the test process and processes made by
// unshare(1), reads the DOT back, and checks it: valid, every process
// and namespace once, a diverging thread drawn, and for pairs of tasks the
// edges say "shared" exactly where sharing.Compare does.
func TestProcessesGraph(t *testing.T) {
	testutil.RequireRoot(t)
	self := os.Getpid()
	netOnly, _ := testutil.Unshare(t, "--net")
	userParent, userChild := testutil.Unshare(t, "--user", "--map-root-user", "--pid", "--fork")
	utsParent, utsChild := testutil.Unshare(t, "--uts", "--time", "--fork")
	thread := testutil.ThreadUnshare(t, unix.CLONE_NEWUTS)

	m, err := discover.Discover(discover.Options{Tasks: true})
	if err != nil {
		t.Fatal(err)
	}
	// Every process above is a descendant of the test process.
	tasks, missing := Subtree(m.Tasks, []model.TaskRef{{PID: self, TID: self}})
	if len(missing) > 0 {
		t.Fatalf("Subtree: %v missing", missing)
	}
	var b strings.Builder
	if err := Processes(tasks).WriteDOT(&b); err != nil {
		t.Fatal(err)
	}
	p, err := parseDOT(b.String())
	if err != nil {
		t.Fatalf("the DOT does not parse: %v\n%s", err, b.String())
	}

	// Every process and every namespace once (parseDOT refuses a node
	// defined twice), and nothing else but diverging threads.
	want := map[string]bool{}
	for _, tk := range tasks {
		if !tk.IsThread() {
			want[ProcessID(tk.PID)] = true
		}
		for _, n := range tk.NS {
			if n != nil {
				want[NSID(n.Key())] = true
			}
		}
	}
	for id := range want {
		if p.nodes[id] == nil {
			t.Errorf("node %s missing", id)
		}
	}
	for _, id := range p.order {
		if !want[id] && !strings.HasPrefix(id, "t") && !isAncestor(p, id) {
			t.Errorf("node %s is neither a walked process, its namespace, a thread nor an ancestor", id)
		}
	}
	threads := 0
	for _, id := range p.order {
		if strings.HasPrefix(id, "t") {
			threads++
		}
	}
	if p.nodes[ThreadID(thread)] == nil || threads != 1 {
		var drawn []string
		for _, tk := range tasks {
			if tk.IsThread() && p.nodes[ThreadID(tk.TID)] != nil {
				drawn = append(drawn, fmt.Sprintf("%d:%d %s %+v", tk.PID, tk.TID, tk.Comm, tk.NS))
			}
		}
		t.Errorf("want exactly the diverging thread %d drawn, got %d thread nodes: %s", thread, threads, strings.Join(drawn, "; "))
	}
	for _, e := range p.edges {
		if p.nodes[e.from] == nil || p.nodes[e.to] == nil {
			t.Errorf("edge %s -> %s to an undefined node", e.from, e.to)
		}
	}

	// The child user namespace's parent is the test's user namespace.
	if parentOf(p, nsTarget(p, ProcessID(userChild), "user"), "parent") != nsTarget(p, ProcessID(self), "user") {
		t.Errorf("unshare --user child's user namespace is not drawn as a child of the test's")
	}

	pairs := [][2]*procinfo.Proc{}
	pin := func(pid, tid int) *procinfo.Proc {
		pr, err := procinfo.OpenTask(pid, tid)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { pr.Close() })
		return pr
	}
	ids := []*procinfo.Proc{pin(self, self), pin(netOnly, netOnly), pin(userParent, userParent), pin(userChild, userChild), pin(utsParent, utsParent), pin(utsChild, utsChild), pin(self, thread)}
	for i := range ids {
		for j := i + 1; j < len(ids); j++ {
			pairs = append(pairs, [2]*procinfo.Proc{ids[i], ids[j]})
		}
	}
	for _, pr := range pairs {
		rep, err := sharing.Compare(pr[0], pr[1])
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Resources {
			if r.Kind != sharing.KindNamespace || r.Shared == nil {
				continue
			}
			a, b := nsTarget(p, node(pr[0]), r.Name), nsTarget(p, node(pr[1]), r.Name)
			if a == "" || b == "" {
				t.Errorf("%s: no %s edge for %s or %s", r.Name, r.Name, rep.A, rep.B)
				continue
			}
			if (a == b) != *r.Shared {
				t.Errorf("%s vs %s: %s edges go to %s and %s, compare says %s", rep.A, rep.B, r.Name, a, b, r.Verdict())
			}
		}
	}
}

func TestDOTAcceptedByGraphviz(t *testing.T) {
	dot := testutil.RequireCommand(t, "dot", "graphviz")
	m, err := discover.Discover(discover.Options{Tasks: true})
	if err != nil {
		t.Fatal(err)
	}
	tasks, _ := Subtree(m.Tasks, []model.TaskRef{{PID: os.Getpid(), TID: os.Getpid()}})
	var b strings.Builder
	if err := Processes(tasks).WriteDOT(&b); err != nil {
		t.Fatal(err)
	}
	cmd := testutil.Command(t, testutil.Quick, dot, "-Tcanon")
	cmd.Stdin = strings.NewReader(b.String())
	if _, err := testutil.Output(cmd); err != nil {
		t.Fatalf("dot rejects the graph: %v", err)
	}
}

// node is the DOT node that draws task p.
func node(p *procinfo.Proc) string {
	if p.IsThread() {
		return ThreadID(p.TID)
	}
	return ProcessID(p.PID)
}

// nsTarget is the namespace node that from's edge labelled link points
// to. pid_for_children and time_for_children edges are drawn only where
// they differ from pid and time.
func nsTarget(p *parsed, from, link string) string {
	for _, e := range p.edges {
		if e.from == from && e.attrs["label"] == link {
			return e.to
		}
	}
	if base, ok := childLinks[link]; ok {
		return nsTarget(p, from, base)
	}
	return ""
}

func parentOf(p *parsed, ns, label string) string {
	for _, e := range p.edges {
		if e.from == ns && e.attrs["label"] == label {
			return e.to
		}
	}
	return ""
}

// isAncestor reports whether id is reached by a parent or owner edge.
func isAncestor(p *parsed, id string) bool {
	for _, e := range p.edges {
		if e.to == id && (e.attrs["label"] == "parent" || e.attrs["label"] == "owner") {
			return true
		}
	}
	return false
}

// Subtree over a fixture: a process root brings its threads and
// descendants, a thread root only itself, and unknown roots are reported.
func TestSubtree(t *testing.T) {
	task := func(pid, tid, ppid int) *model.Task { return &model.Task{PID: pid, TID: tid, PPID: ppid} }
	tasks := []*model.Task{task(1, 1, 0), task(1, 12, 0), task(5, 5, 1), task(5, 7, 1), task(6, 6, 5), task(9, 9, 0)}
	for _, c := range []struct {
		roots   []model.TaskRef
		kept    string
		missing string
	}{
		{[]model.TaskRef{{PID: 5, TID: 5}}, "5:5 5:7 6:6", "[]"},
		{[]model.TaskRef{{PID: 1, TID: 12}}, "1:12", "[]"},
		{[]model.TaskRef{{PID: 6, TID: 6}, {PID: 9, TID: 9}}, "6:6 9:9", "[]"},
		{[]model.TaskRef{{PID: 4, TID: 4}, {PID: 1, TID: 13}}, "", "[{4 4} {1 13}]"},
	} {
		kept, missing := Subtree(tasks, c.roots)
		var got []string
		for _, k := range kept {
			got = append(got, fmt.Sprintf("%d:%d", k.PID, k.TID))
		}
		if strings.Join(got, " ") != c.kept || fmt.Sprint(missing) != c.missing {
			t.Errorf("Subtree(%v): kept %v missing %v; want %s and %s", c.roots, got, missing, c.kept, c.missing)
		}
	}
}
