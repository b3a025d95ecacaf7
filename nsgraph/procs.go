package nsgraph

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/nsgroup"
	"github.com/nsinspect/nsinspect/procinfo"
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
// relations in rels (nsgroup.Relate).
func Processes(tasks []nsgroup.Task, rels map[namespaces.Key]*nsgroup.Relation) *Graph {
	g := newGraph("namespaces", "rankdir=LR")
	leaders := map[int]nsgroup.Task{}
	for _, t := range tasks {
		if !t.IsThread() {
			leaders[t.PID] = t
		}
	}
	for _, t := range tasks {
		if t.IsThread() {
			if l, ok := leaders[t.PID]; ok && sameNamespaces(l, t) {
				continue
			}
		}
		id := taskNode(g, t)
		if t.IsThread() && g.has(ProcessID(t.PID)) {
			g.edge(id, ProcessID(t.PID), "thread of", map[string]string{"style": "dotted"})
		}
		own := map[string]namespaces.NS{}
		for _, l := range t.NS {
			if l.Err == nil {
				own[l.Link.Name] = l.NS
			}
		}
		for _, l := range t.NS {
			if l.Err != nil {
				continue
			}
			if base, ok := childLinks[l.Link.Name]; ok && own[base].Same(l.NS) {
				continue
			}
			g.edge(id, nsNode(g, l.NS, rels), l.Link.Name, nil)
		}
	}
	relations(g, rels)
	return g
}

func taskNode(g *Graph, t nsgroup.Task) string {
	attrs := map[string]string{"shape": "ellipse"}
	label := fmt.Sprintf("%d %s", t.PID, t.Comm)
	id := ProcessID(t.PID)
	if t.IsThread() {
		label = fmt.Sprintf("%d:%d %s\n(thread)", t.PID, t.TID, t.Comm)
		id = ThreadID(t.TID)
	}
	switch {
	case t.Zombie:
		label += "\n(zombie: nsproxy released,\npins pid and user)"
		attrs["style"] = "dashed"
	case allFailed(t.NS):
		label += "\n(namespaces unreadable)"
		attrs["style"] = "dashed"
	}
	return g.node(id, label, attrs)
}

func nsNode(g *Graph, ns namespaces.NS, rels map[namespaces.Key]*nsgroup.Relation) string {
	label := fmt.Sprintf("%s\n%s", ns, ns.IDText())
	if r, ok := rels[ns.Key()]; ok && !r.Held {
		label += "\n(no task shown is in it)"
	}
	return g.node(NSID(ns.Key()), label, map[string]string{"shape": "box", "style": "filled", "fillcolor": typeColor[ns.Type]})
}

// relations draws parent and owner edges between the namespaces in the
// graph and the ancestors they lead to.
func relations(g *Graph, rels map[namespaces.Key]*nsgroup.Relation) {
	ids := make([]namespaces.Key, 0, len(rels))
	for id := range rels {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i].String() < ids[j].String() })
	// Walk until no new ancestor is added: an ancestor's own relations
	// are drawn once it is in the graph.
	drawn := map[string]bool{}
	for added := true; added; {
		added = false
		for _, id := range ids {
			r := rels[id]
			if !g.has(NSID(id)) || r == nil {
				continue
			}
			for _, rel := range []struct {
				ns    *namespaces.NS
				label string
				style string
			}{{r.Parent, "parent", "bold"}, {r.Owner, "owner", "dashed"}} {
				if rel.ns == nil {
					continue
				}
				key := NSID(id) + "|" + rel.label
				if drawn[key] {
					continue
				}
				drawn[key] = true
				if !g.has(NSID(rel.ns.Key())) {
					added = true
				}
				g.edge(NSID(id), nsNode(g, *rel.ns, rels), rel.label, map[string]string{"style": rel.style})
			}
		}
	}
}

func sameNamespaces(a, b nsgroup.Task) bool {
	if len(a.NS) != len(b.NS) {
		return false
	}
	for i := range a.NS {
		if a.NS[i].Err != nil || b.NS[i].Err != nil || !a.NS[i].NS.Same(b.NS[i].NS) {
			return false
		}
	}
	return true
}

func allFailed(ls []procinfo.NSLink) bool {
	for _, l := range ls {
		if l.Err == nil {
			return false
		}
	}
	return true
}

// Subtree keeps the tasks of the given processes and of all their
// descendants (by ppid); it reports the pids that matched no process.
func Subtree(tasks []nsgroup.Task, roots []int) (kept []nsgroup.Task, missing []int) {
	children := map[int][]int{}
	exists := map[int]bool{}
	for _, t := range tasks {
		if !t.IsThread() {
			children[t.PPID] = append(children[t.PPID], t.PID)
			exists[t.PID] = true
		}
	}
	want := map[int]bool{}
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
		if !exists[r] {
			missing = append(missing, r)
			continue
		}
		visit(r)
	}
	for _, t := range tasks {
		if want[t.PID] {
			kept = append(kept, t)
		}
	}
	return kept, missing
}
