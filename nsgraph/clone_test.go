package nsgraph

import (
	"slices"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/sharing"
)

func TestCloneGraph(t *testing.T) {
	yes, no := true, false
	n1 := &namespaces.NS{Type: namespaces.Net, ID: 3, Ino: 4026531833}
	n2 := &namespaces.NS{Type: namespaces.Net, ID: 9, Ino: 4026532200}
	u := &namespaces.NS{Type: namespaces.UTS, ID: 1, Ino: 4026531838}
	rep := &report.Clone{
		Call:   report.Call{Flags: []string{"CLONE_NEWNET", "CLONE_FILES"}, Syscall: "clone"},
		Parent: &report.Side{PID: 10, Comm: "nsinspect"}, Child: &report.Side{PID: 11, Comm: "nsinspect"},
		Resources: []report.Resource{
			{Name: "net", Kind: sharing.KindNamespace, Shared: &no, Evidence: sharing.Evidence{A: n1, B: n2}, Agree: true},
			{Name: "uts", Kind: sharing.KindNamespace, Shared: &yes, Evidence: sharing.Evidence{A: u, B: u}, Agree: true},
			{Name: "files", Kind: sharing.KindKcmp, Shared: &yes, Evidence: sharing.Evidence{Kcmp: "KCMP_FILES"}, Agree: true},
			{Name: "io", Kind: sharing.KindKcmp, Evidence: sharing.Evidence{Kcmp: "KCMP_IO"}},
		},
	}
	p := cloneDOT(t, rep)
	for name, shared := range map[string]bool{"net": false, "uts": true, "files": true, "io": true} {
		a, b := nsTarget(p, "parent", name), nsTarget(p, "child", name)
		if a == "" || b == "" {
			t.Fatalf("%s: parent or child has no edge", name)
		}
		if (a == b) != shared {
			t.Errorf("%s: parent -> %s, child -> %s; want shared=%t", name, a, b, shared)
		}
	}
	if l := p.nodes["r_io"]["label"]; !strings.Contains(l, "indeterminate") {
		t.Errorf("io node label %q, want it marked indeterminate", l)
	}

	errno := "EINVAL"
	refused := cloneDOT(t, &report.Clone{Call: report.Call{Flags: []string{"CLONE_SIGHAND"}, Syscall: "clone", Errno: &errno,
		Explanation: []string{"CLONE_SIGHAND requires CLONE_VM"}}, Parent: &report.Side{PID: 10}})
	if refused.nodes["child"] != nil || !strings.Contains(refused.nodes["refused"]["label"], "EINVAL") {
		t.Errorf("refused call: nodes %v, want no child and the errno", refused.order)
	}
}

func cloneDOT(t *testing.T, rep *report.Clone) *parsed {
	t.Helper()
	var b strings.Builder
	if err := Clone(rep).WriteDOT(&b); err != nil {
		t.Fatal(err)
	}
	p, err := parseDOT(b.String())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return p
}

// A call with no flags (a plain fork) is labelled clone(0).
func TestCloneGraphNoFlags(t *testing.T) {
	g := Clone(&report.Clone{Call: report.Call{Flags: []string{}, Syscall: "clone"}, Parent: &report.Side{PID: 10}, Child: &report.Side{PID: 11}})
	if !slices.Contains(g.Attrs, `label="clone(0)"`) {
		t.Errorf("graph attributes %q, want label=\"clone(0)\"", g.Attrs)
	}
}

// pid_for_children and time_for_children name the same namespace as pid
// and time unless something moved them: each namespace is one node, and a
// *_for_children edge is drawn only where it differs, as in Processes.
func TestCloneGraphChildLinks(t *testing.T) {
	yes, no := true, false
	pid := &namespaces.NS{Type: namespaces.PID, ID: 160, Ino: 4026532178}
	time1 := &namespaces.NS{Type: namespaces.Time, ID: 163, Ino: 4026532245}
	time2 := &namespaces.NS{Type: namespaces.Time, ID: 170, Ino: 4026532300}
	ns := func(name string, shared *bool, a, b *namespaces.NS) report.Resource {
		return report.Resource{Name: name, Kind: sharing.KindNamespace, Shared: shared, Evidence: sharing.Evidence{A: a, B: b}, Agree: true}
	}
	// CLONE_NEWTIME|CLONE_VM from Linux 6.2 on: the child stays in the
	// parent's time namespace until it execs; its children go to the new one.
	rep := &report.Clone{
		Call:   report.Call{Flags: []string{"CLONE_NEWTIME", "CLONE_VM"}, Syscall: "clone3"},
		Parent: &report.Side{PID: 10}, Child: &report.Side{PID: 11},
		Resources: []report.Resource{
			ns("pid", &yes, pid, pid), ns("pid_for_children", &yes, pid, pid),
			ns("time", &yes, time1, time1), ns("time_for_children", &no, time1, time2),
		},
	}
	p := cloneDOT(t, rep)
	for _, n := range []*namespaces.NS{pid, time1, time2} {
		var nodes []string
		for _, id := range p.order {
			if strings.Contains(p.nodes[id]["label"], n.String()) {
				nodes = append(nodes, id)
			}
		}
		if len(nodes) != 1 {
			t.Errorf("%s is drawn as %d nodes %v, want 1", n, len(nodes), nodes)
		}
	}
	for _, e := range p.edges {
		if l := e.attrs["label"]; l == "pid_for_children" || (l == "time_for_children" && e.from == "parent") {
			t.Errorf("edge %s -[%s]-> %s: the link is its own namespace's", e.from, l, e.to)
		}
	}
	if a, b := nsTarget(p, "child", "time_for_children"), nsTarget(p, "child", "time"); a == b || a == "" {
		t.Errorf("child's time_for_children -> %q, time -> %q; want the new namespace apart", a, b)
	}
	if a, b := nsTarget(p, "parent", "time"), nsTarget(p, "child", "time"); a != b {
		t.Errorf("time: parent -> %s, child -> %s; want one shared node", a, b)
	}
}
