package nsgraph

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

// Fill colours per namespace type, so that a picture reads at a glance.
var typeColor = map[namespaces.Type]string{
	namespaces.Cgroup: "#f4cccc", namespaces.IPC: "#fce5cd", namespaces.Mount: "#fff2cc",
	namespaces.Net: "#d9ead3", namespaces.PID: "#d0e0e3", namespaces.Time: "#cfe2f3",
	namespaces.User: "#d9d2e9", namespaces.UTS: "#ead1dc",
}

// childLinks are drawn only where they differ from the task's own
// namespace of that type, to keep the picture readable; an absent
// pid_for_children edge means "same as pid".
var childLinks = map[string]string{"pid_for_children": "pid", "time_for_children": "time"}

// ProcessID, ThreadID and NSID are the DOT node ids.
func ProcessID(pid int) string     { return "p" + strconv.Itoa(pid) }
func ThreadID(tid int) string      { return "t" + strconv.Itoa(tid) }
func NSID(k namespaces.Key) string { return "ns_" + k.String() }

// Processes draws tasks (processes, and threads whose namespaces differ
// from their leader's) and their namespaces, with the parent and owner
// edges of the model each namespace points into. A user namespace's owner
// is its parent (see the model package doc): that edge is drawn once, as
// "parent".
func Processes(tasks []*model.Task) *Graph {
	g := newGraph("namespaces", "rankdir=LR")
	// About one edge per task and link, and a node per task: sized once,
	// not grown through a copy per doubling.
	g.Edges = make([]Edge, 0, len(tasks)*len(namespaces.Links))
	g.Nodes = make([]Node, 0, len(tasks)+len(tasks)/4)
	leaders := map[int]*model.Task{}
	shown := map[*model.Namespace]bool{}
	for _, t := range tasks {
		if !t.IsThread() {
			leaders[t.PID] = t
		}
		for _, n := range t.NS {
			shown[n] = n != nil
		}
	}
	drawn := make([]*model.Namespace, 0, len(tasks)*len(namespaces.Links))
	for _, t := range tasks {
		if t.IsThread() {
			if l, ok := leaders[t.PID]; ok && t.Readable() && slices.Equal(l.NS, t.NS) {
				continue
			}
		}
		id := taskNode(g, t)
		if t.IsThread() && g.has(ProcessID(t.PID)) {
			g.edge(id, ProcessID(t.PID), "thread of", map[string]string{"style": "dotted"})
		}
		for i, n := range t.NS {
			if n == nil {
				continue
			}
			name := namespaces.Links[i].Name
			if base, ok := childLinks[name]; ok {
				if own, _ := t.Link(base); own == n {
					continue
				}
			}
			g.edge(id, nsNode(g, n, shown), name, nil)
			drawn = append(drawn, n)
		}
	}
	relations(g, drawn, shown)
	return g
}

func taskNode(g *Graph, t *model.Task) string {
	attrs := map[string]string{"shape": "ellipse"}
	label := fmt.Sprintf("%d %s", t.PID, t.Comm)
	id := ProcessID(t.PID)
	if t.IsThread() {
		label = fmt.Sprintf("%d:%d %s\n(thread)", t.PID, t.TID, t.Comm)
		id = ThreadID(t.TID)
	}
	switch {
	case t.Zombie():
		label += "\n(zombie: nsproxy released,\npins pid and user)"
		attrs["style"] = "dashed"
	case !t.Readable():
		label += "\n(namespaces unreadable)"
		attrs["style"] = "dashed"
	}
	return g.node(id, label, attrs)
}

func nsNode(g *Graph, n *model.Namespace, shown map[*model.Namespace]bool) string {
	id := NSID(n.Key())
	if g.has(id) {
		return id // drawn already: one node per namespace, met once per task in it
	}
	label := fmt.Sprintf("%s\n%s", n.NS, n.IDText())
	if !shown[n] {
		label += "\n(no task shown is in it)"
	}
	return g.node(id, label, map[string]string{"shape": "box", "style": "filled", "fillcolor": typeColor[n.Type]})
}

// relations draws the parent and owner edges from the namespaces drawn,
// and from the ancestors they lead to, each once.
func relations(g *Graph, todo []*model.Namespace, shown map[*model.Namespace]bool) {
	done := map[*model.Namespace]bool{}
	for len(todo) > 0 {
		n := todo[0]
		todo = todo[1:]
		if done[n] {
			continue
		}
		done[n] = true
		rels := []struct {
			to    *model.Namespace
			label string
			style string
		}{{n.Parent, "parent", "bold"}, {n.Owner, "owner", "dashed"}}
		for _, r := range rels {
			if r.to == nil || (r.label == "owner" && n.Type == namespaces.User) {
				continue
			}
			g.edge(NSID(n.Key()), nsNode(g, r.to, shown), r.label, map[string]string{"style": r.style})
			todo = append(todo, r.to)
		}
	}
}

// Subtree keeps, for each root, a process with all its threads and the
// processes descended from it (by ppid) with theirs, or, for a root that
// names a thread (TID != PID), that thread alone. It reports the roots
// that matched no task.
func Subtree(tasks []*model.Task, roots []model.TaskRef) (kept []*model.Task, missing []model.TaskRef) {
	children := map[int][]int{}
	exists := map[model.TaskRef]bool{}
	for _, t := range tasks {
		if !t.IsThread() {
			children[t.PPID] = append(children[t.PPID], t.PID)
		}
		exists[model.TaskRef{PID: t.PID, TID: t.TID}] = true
	}
	want := map[int]bool{}
	threads := map[model.TaskRef]bool{}
	var visit func(int)
	visit = func(pid int) {
		if want[pid] {
			return
		}
		want[pid] = true
		for _, c := range children[pid] {
			visit(c)
		}
	}
	for _, r := range roots {
		switch {
		case !exists[r]:
			missing = append(missing, r)
		case r.TID != r.PID:
			threads[r] = true
		default:
			visit(r.PID)
		}
	}
	for _, t := range tasks {
		if want[t.PID] || threads[model.TaskRef{PID: t.PID, TID: t.TID}] {
			kept = append(kept, t)
		}
	}
	return kept, missing
}
