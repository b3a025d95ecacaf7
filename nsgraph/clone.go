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
// indeterminate. A refused call draws the caller and the errno.
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
	for _, r := range rep.Resources {
		switch v := verdict.Of(r.Shared); v {
		case verdict.Indeterminate:
			n := g.node("r_"+r.Name, r.Name+"\n("+v.String()+")", map[string]string{"shape": "box", "style": "dashed"})
			g.edge(parent, n, r.Name, map[string]string{"style": "dashed"})
			g.edge(child, n, r.Name, map[string]string{"style": "dashed"})
		case verdict.Shared:
			n := g.node("r_"+r.Name, resourceLabel(r, r.Evidence.A, v.String()), resourceAttrs(r, v))
			g.edge(parent, n, r.Name, nil)
			g.edge(child, n, r.Name, nil)
		default:
			a := g.node("r_"+r.Name+"_parent", resourceLabel(r, r.Evidence.A, "parent's"), resourceAttrs(r, v))
			b := g.node("r_"+r.Name+"_child", resourceLabel(r, r.Evidence.B, "child's"), resourceAttrs(r, v))
			g.edge(parent, a, r.Name, nil)
			g.edge(child, b, r.Name, nil)
		}
	}
	return g
}

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
