package nsgraph

import (
	"bufio"
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

// WriteDOT writes the graph in the DOT language, through a buffer: a
// graph of a few thousand processes has tens of thousands of edges.
func (g *Graph) WriteDOT(w io.Writer) error {
	b := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(b, "digraph %s {\n", quote(g.Name))
	for _, a := range g.Attrs {
		fmt.Fprintf(b, "  %s;\n", a)
	}
	b.WriteString("  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=8];\n")
	for _, n := range g.Nodes {
		b.WriteString("  ")
		writeQuoted(b, n.ID)
		b.WriteString(" [")
		writeAttrs(b, n.Label, n.Attrs)
		b.WriteString("];\n")
	}
	for _, e := range g.Edges {
		b.WriteString("  ")
		writeQuoted(b, e.From)
		b.WriteString(" -> ")
		writeQuoted(b, e.To)
		b.WriteString(" [")
		writeAttrs(b, e.Label, e.Attrs)
		b.WriteString("];\n")
	}
	b.WriteString("}\n")
	return b.Flush()
}

// writeAttrs writes label= and the other attributes, sorted by name.
func writeAttrs(b *bufio.Writer, label string, attrs map[string]string) {
	b.WriteString("label=")
	writeQuoted(b, label)
	if len(attrs) == 0 {
		return
	}
	keys := make([]string, 0, len(attrs))
	for k := range attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(", ")
		b.WriteString(k)
		b.WriteByte('=')
		writeQuoted(b, attrs[k])
	}
}

// writeQuoted writes quote(s).
func writeQuoted(b *bufio.Writer, s string) {
	b.WriteByte('"')
	dotEscaper.WriteString(b, s)
	b.WriteByte('"')
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
