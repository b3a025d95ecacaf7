package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/nsgroup"
)

// NSProxy prints the sets and, when the tasks came with nsproxy ids
// (the BPF source), each set's instances in place of its task list.
func NSProxy(w io.Writer, out inspect.NSProxy) error {
	n, g := out.TaskCount, out.Groups
	if t := out.Task; t != nil {
		fmt.Fprintf(w, "-p %s: task %s, its nsproxy and the tasks that share it.\n", t.Arg, TaskRef(nsgroup.TaskRef{PID: t.PID, TID: t.TID, Comm: t.Comm}))
	}
	renderNSProxyHeader(w, n, g, out.Task != nil)
	for i, s := range g.Sets {
		title := fmt.Sprintf("\nSET %d: %d task(s)", i+1, len(s.Tasks))
		if len(s.NSProxies) > 0 {
			title += fmt.Sprintf(" in %d nsproxy instance(s)", len(s.NSProxies))
		}
		if s.Init {
			title += ", init's"
		}
		fmt.Fprintln(w, title)
		tw := NewTable(w)
		for _, l := range s.Namespaces {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", l.Link, l.NS, l.NS.IDText(), hierarchyText(l.NS))
		}
		for _, c := range s.Context {
			fmt.Fprintf(tw, "  (%s)\t%s\t(not in nsproxy)\n", c.Link, nsList(c.NS))
		}
		tw.Flush()
		if g.Instances == nil {
			fmt.Fprintln(w, wrap("  tasks: ", taskRefs(s.Tasks), 100))
			continue
		}
		renderInstances(w, g, i)
	}
	if len(g.Zombies) > 0 {
		fmt.Fprintf(w, "\n%d zombie(s), in no set: each released its nsproxy at exit (exit_task_namespaces) and, until reaped, still pins its pid namespace (struct pid) and user namespace (cred):\n", len(g.Zombies))
		for _, z := range g.Zombies {
			pins := make([]string, len(z.Pins))
			for i, p := range z.Pins {
				pins[i] = p.Link + " " + p.NS.String() + IDSuffix(p.NS.ID)
			}
			fmt.Fprintf(w, "  %s: pins %s\n", TaskRef(z.TaskRef), strings.Join(pins, ", "))
		}
	}
	if len(g.Unreadable) > 0 {
		fmt.Fprintf(w, "\n%d task(s) whose namespaces cannot be read:\n", len(g.Unreadable))
		for _, u := range g.Unreadable {
			fmt.Fprintf(w, "  %s: %s\n", TaskRef(u.TaskRef), u.Error)
		}
	}
	return nil
}

// renderNSProxyHeader says how many tasks, instances and sets there are,
// what userspace can know of them, and where init is.
func renderNSProxyHeader(w io.Writer, n int, g nsgroup.Groups, cut bool) {
	links := strings.Join(nsgroup.NSProxyLinks, " ")
	if g.Instances != nil {
		fmt.Fprintf(w, "%d tasks in %d struct nsproxy instances with %d distinct namespace sets (%s).\n", n, len(g.Instances), len(g.Sets), links)
		fmt.Fprintf(w, "Note: %s.\n", inspect.NSProxyBPFNote)
	} else {
		fmt.Fprintf(w, "%d tasks in %d distinct nsproxy sets (%s).\n", n, len(g.Sets), links)
		fmt.Fprintf(w, "Note: %s.\n", inspect.NSProxyNote)
	}
	switch {
	case g.InitSet < 0 && cut:
		fmt.Fprintf(w, "%s.\n", g.InitNote)
	case g.InitSet < 0:
		fmt.Fprintf(w, "init's set is unknown: %s.\n", g.InitNote)
	case g.Instances != nil:
		fmt.Fprintf(w, "init (pid 1) is in set %d, nsproxy %s.\n", g.InitSet+1, initInstance(g))
	default:
		fmt.Fprintf(w, "init (pid 1) is in set %d.\n", g.InitSet+1)
	}
}

// renderInstances prints one line per instance of set i. (A task whose
// nsproxy was NULL has no readable set either: it is listed unreadable.)
func renderInstances(w io.Writer, g nsgroup.Groups, i int) {
	for _, x := range g.Instances {
		if x.Set == i {
			fmt.Fprintln(w, wrap(instanceLabel(x), taskRefs(x.Tasks), 100))
		}
	}
}

// instanceLabel starts an instance's line: "  nsproxy 4*: ", the mark
// saying that another instance has the same set.
func instanceLabel(in nsgroup.Instance) string {
	mark := ""
	if in.Shared() {
		mark = "*"
	}
	return fmt.Sprintf("  nsproxy %d%s: ", in.ID, mark)
}

// initInstance is the id of pid 1's nsproxy, "unknown" when pid 1 had
// none (it cannot: init never exits while the system runs).
func initInstance(g nsgroup.Groups) string {
	for _, in := range g.Instances {
		if in.Init {
			return strconv.FormatUint(in.ID, 10)
		}
	}
	return "unknown"
}

func nsList(ns []nsgroup.NS) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = n.String() + IDSuffix(n.ID)
	}
	return strings.Join(s, ", ")
}

// hierarchyText says where a namespace hangs: its parent (pid and user
// namespaces) and, for the other types, its owning user namespace.
func hierarchyText(n nsgroup.NS) string {
	var parts []string
	if n.Parent != nil {
		parts = append(parts, "parent "+n.Parent.String())
	}
	if n.Owner != nil && n.Type != namespaces.User {
		parts = append(parts, "owner "+n.Owner.String())
	}
	return strings.Join(parts, ", ")
}

func taskRefs(rs []nsgroup.TaskRef) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = TaskRef(r)
	}
	return out
}

// wrap joins words after prefix, breaking lines before width; continuation
// lines are indented like the first.
func wrap(prefix string, words []string, width int) string {
	var b strings.Builder
	indent := strings.Repeat(" ", len(prefix))
	line := prefix
	for i, word := range words {
		if i > 0 {
			if len(line)+1+len(word) > width {
				b.WriteString(line + "\n")
				line = indent + word
				continue
			}
			line += " "
		}
		line += word
	}
	b.WriteString(line)
	return b.String()
}
