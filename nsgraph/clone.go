package nsgraph

import (
	"fmt"
	"strings"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/verdict"
)

// Clone draws one experiment: the parent and the child, and for each
// resource one node both point to when shared, one node each when
// separate, and a node drawn with dashed edges when the verdict is
// indeterminate. Each namespace is one node: as in Processes, a side's
// pid_for_children or time_for_children edge is drawn only where it names
// another namespace than the side's pid or time. A refused call draws the
// caller and the errno.
func Clone(rep *report.Clone) *Graph {
	g := newGraph("clone", "rankdir=LR", `labelloc="t"`, "label="+quote(fmt.Sprintf("%s(%s)", rep.Syscall, flags.Set(rep.Value))))
	side := func(role string, s *report.Side) string {
		if s == nil {
			return g.node(role, role, map[string]string{"shape": "ellipse"})
		}
		return g.node(role, fmt.Sprintf("%s\npid %d %s", role, s.PID, s.Comm), map[string]string{"shape": "ellipse"})
	}
	parent := side("parent", rep.Parent)
	if rep.Errno != nil {
		refused := g.node("refused", fmt.Sprintf("refused: %s\n%s", *rep.Errno, strings.Join(rep.Explanation, "\n")), map[string]string{"shape": "note", "color": "red"})
		g.edge(parent, refused, rep.Syscall, nil)
		return g
	}
	child := side("child", rep.Child)
	g.edge(parent, child, rep.Syscall, map[string]string{"style": "bold"})
	byName := map[string]report.Resource{}
	for _, r := range rep.Resources {
		byName[r.Name] = r
	}
	drawn := map[namespaces.Key]string{}
	// node draws a resource's node once per namespace: a link that names
	// a namespace already drawn points to that node.
	node := func(id string, ns *namespaces.NS, label string, attrs map[string]string) string {
		if ns == nil {
			return g.node(id, label, attrs)
		}
		if have, ok := drawn[ns.Key()]; ok {
			return have
		}
		drawn[ns.Key()] = id
		return g.node(id, label, attrs)
	}
	for _, r := range rep.Resources {
		fromParent, fromChild := true, true
		if base, ok := childLinks[r.Name]; ok {
			own := byName[base].Evidence
			fromParent = !sameNS(r.Evidence.A, own.A)
			fromChild = !sameNS(r.Evidence.B, own.B)
		}
		edges := func(a, b string, attrs map[string]string) {
			if fromParent {
				g.edge(parent, a, r.Name, attrs)
			}
			if fromChild {
				g.edge(child, b, r.Name, attrs)
			}
		}
		if !fromParent && !fromChild {
			continue
		}
		switch v := verdict.Of(r.Shared); v {
		case verdict.Indeterminate:
			n := g.node("r_"+r.Name, r.Name+"\n("+v.String()+")", map[string]string{"shape": "box", "style": "dashed"})
			edges(n, n, map[string]string{"style": "dashed"})
		case verdict.Shared:
			n := node("r_"+r.Name, r.Evidence.A, resourceLabel(r, r.Evidence.A, v.String()), resourceAttrs(r, v))
			edges(n, n, nil)
		default:
			var a, b string
			if fromParent {
				a = node("r_"+r.Name+"_parent", r.Evidence.A, resourceLabel(r, r.Evidence.A, "parent's"), resourceAttrs(r, v))
			}
			if fromChild {
				b = node("r_"+r.Name+"_child", r.Evidence.B, resourceLabel(r, r.Evidence.B, "child's"), resourceAttrs(r, v))
			}
			edges(a, b, nil)
		}
	}
	return g
}

// sameNS reports whether a and b are known and one namespace.
func sameNS(a, b *namespaces.NS) bool { return a != nil && b != nil && a.Same(*b) }

func resourceLabel(r report.Resource, ns *namespaces.NS, whose string) string {
	if ns != nil {
		return fmt.Sprintf("%s %s\n%s", whose, ns, ns.IDText())
	}
	return fmt.Sprintf("%s %s\n(%s)", whose, r.Name, r.Evidence.Kcmp)
}

// resourceAttrs colours a decided resource: green shared, red separate,
// outlined red when it disagrees with clone(2).
func resourceAttrs(r report.Resource, v verdict.Verdict) map[string]string {
	a := map[string]string{"shape": "box", "style": "filled", "fillcolor": "#d9ead3"}
	if v == verdict.Separate {
		a["fillcolor"] = "#f4cccc"
	}
	if !r.Agree {
		a["color"] = "red"
		a["penwidth"] = "2"
	}
	return a
}
