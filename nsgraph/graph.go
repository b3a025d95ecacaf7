package nsgraph

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// Graph is a directed graph ready to be written as DOT.
type Graph struct {
	Name  string
	Attrs []string // graph attributes: rankdir=LR
	Nodes []Node
	Edges []Edge
	index map[string]int
}

// Node is one node; Attrs are DOT attributes other than the label.
type Node struct {
	ID    string
	Label string
	Attrs map[string]string
}

// Edge is one edge.
type Edge struct {
	From, To string
	Label    string
	Attrs    map[string]string
}

func newGraph(name string, attrs ...string) *Graph {
	return &Graph{Name: name, Attrs: attrs, index: map[string]int{}}
}

// node adds a node unless one with the id exists, and returns the id.
func (g *Graph) node(id, label string, attrs map[string]string) string {
	if _, ok := g.index[id]; !ok {
		g.index[id] = len(g.Nodes)
		g.Nodes = append(g.Nodes, Node{ID: id, Label: label, Attrs: attrs})
	}
	return id
}

func (g *Graph) has(id string) bool { _, ok := g.index[id]; return ok }

func (g *Graph) edge(from, to, label string, attrs map[string]string) {
	g.Edges = append(g.Edges, Edge{From: from, To: to, Label: label, Attrs: attrs})
}

// WriteDOT writes the graph in the DOT language.
func (g *Graph) WriteDOT(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "digraph %s {\n", quote(g.Name))
	for _, a := range g.Attrs {
		fmt.Fprintf(&b, "  %s;\n", a)
	}
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n")
	for _, n := range g.Nodes {
		fmt.Fprintf(&b, "  %s [%s];\n", quote(n.ID), attrList(n.Label, n.Attrs))
	}
	for _, e := range g.Edges {
		fmt.Fprintf(&b, "  %s -> %s [%s];\n", quote(e.From), quote(e.To), attrList(e.Label, e.Attrs))
	}
	b.WriteString("}\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func attrList(label string, attrs map[string]string) string {
	parts := []string{"label=" + quote(label)}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		parts = append(parts, k+"="+quote(attrs[k]))
	}
	return strings.Join(parts, ", ")
}

// quote makes a DOT double-quoted string. A newline becomes DOT's \n
// (centred line break); a backslash is doubled so that a comm holding
// "\l" or "\N" is shown as written, not taken as an escape.
func quote(s string) string {
	return `"` + dotEscaper.Replace(s) + `"`
}

// dotEscaper is quote's replacer, built once: a strings.Replacer builds
// its tables when made, which per label was 5% of a graph run's CPU.
var dotEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", "")
