package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/nsgroup"
	"github.com/nsinspect/nsinspect/render"
	"github.com/nsinspect/nsinspect/schema"
)

func init() {
	register(&cobra.Command{
		Use:   "nsproxy",
		Short: "Group every task by its struct nsproxy and its set of nsproxy namespaces",
	}, newNSProxyCmd)
}

// nsproxyNote is said in every output: it is the limit of what userspace
// can know.
const nsproxyNote = "userspace sees each task's set of namespaces, not its struct nsproxy pointer: tasks in one set can share one nsproxy, tasks in different sets cannot"

// nsproxyBPFNote replaces nsproxyNote when the BPF source read the
// pointers themselves.
const nsproxyBPFNote = "/proc shows each task's set of namespaces, not its struct nsproxy pointer; here BPF read task->nsproxy itself, shown as an id numbered per run: tasks with one id share one struct nsproxy, and an instance marked * has the same set as another, because setns(2) always gives the caller a new nsproxy, even into namespaces it is already in (nsenter)"

type nsproxyJSON struct {
	Note      string   `json:"note"`
	Links     []string `json:"nsproxy_links"`
	TaskCount int      `json:"task_count"`
	SetCount  int      `json:"set_count"`
	nsgroup.Groups
}

// nsproxyOut is what the command prints: nsproxyJSON and the source that
// read the tasks.
type nsproxyOut struct {
	SchemaVersion schema.Version `json:"schema_version"`
	nsproxyJSON
	Source        string `json:"source"`
	InstanceCount int    `json:"nsproxy_count"` // 0 from /proc
}

func newNSProxyOut(source string, ntasks int, g nsgroup.Groups) nsproxyOut {
	note := nsproxyNote
	if g.Instances != nil {
		note = nsproxyBPFNote
	}
	return nsproxyOut{nsproxyJSON: nsproxyJSON{note, nsgroup.NSProxyLinks, ntasks, len(g.Sets), g}, Source: source, InstanceCount: len(g.Instances)}
}

func newNSProxyCmd() *cobra.Command {
	var (
		asJSON bool
		source string
	)
	c := &cobra.Command{
		Long: `nsproxy groups every task (each thread of each process) by the exact set of
namespaces the kernel keeps in struct nsproxy: ` + strings.Join(nsgroup.NSProxyLinks, ", ") + `.
The user namespace (in the task's cred) and the pid namespace (in its struct
pid) are not in nsproxy; they are shown beside each set, as every one seen
among its tasks.

Where BPF runs (--source bpf, or auto as root on a kernel with BTF, Linux
5.8+), nsinspect reads each task's task->nsproxy pointer and shows the true
instances: every struct nsproxy, with an id numbered per run (never the
address), and its tasks. One set can have several instances: setns(2)
always gives the caller a new nsproxy, even into namespaces it is already
in, so ` + "`sleep 1000 &`" + ` shares its shell's nsproxy while
` + "`nsenter -t $$ -u sleep 1000 &`" + ` has one of its own with the same set. Such
instances are marked *. From /proc (--source proc, or auto without BPF):
` + nsproxyNote + `.

It prints how many distinct sets there are, the tasks in each, and which is
init's (pid 1's), or why pid 1's cannot be read. Tasks that exit during the
walk are left out. A zombie released its nsproxy when it exited and is in
no set: it is listed apart with the namespaces it still pins (pid and user)
until its parent reaps it. Tasks whose namespaces cannot be read (a more
privileged process refuses ptrace access) are listed apart too.

--json prints {"schema_version", "note", "nsproxy_links", "task_count",
"set_count", "sets": [{"namespaces": [{"link", "namespace"}], "context":
[{"link", "namespaces": [...]}], "tasks": [{"pid", "tid", "comm"}], "init",
"nsproxy_ids": [ids]}], "zombies": [{"pid", "tid", "comm", "pins": [{"link",
"namespace"}]}], "unreadable": [{"pid", "tid", "comm", "error"}],
"init_set", "init_note", "source", "nsproxy_count", "nsproxies": [{"id",
"set", "namespaces", "tasks", "init", "same_set_as": [ids], "context"}]};
each namespace is {"type", "ns" (its inode), "id", "dev", "parent",
"owner"} with id from NS_GET_ID (absent before Linux 6.18) and parent and
owner namespaces of the same shape; parent (pid and user namespaces) and
owner (the owning user namespace; for a user namespace its parent) are left
out where the kernel shows none. Sets are largest first; "set" and
"init_set" index "sets". "nsproxies" is null and "nsproxy_count" 0 when
the source is proc; a non-empty "same_set_as" marks the instances that
share their set. The ids mean nothing outside one run.

` + exitCodesHelp,
		Example: `  nsinspect nsproxy
  nsinspect nsproxy --source proc
  nsinspect nsproxy --json | jq '.nsproxies[] | select(.same_set_as != []) | .id'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := discoverFrom(source, discover.Options{Tasks: true, Objects: true}, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			g := nsgroup.ByNSProxy(m.Tasks)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), newNSProxyOut(m.Source, len(m.Tasks), g))
			}
			renderNSProxy(cmd.OutOrStdout(), len(m.Tasks), g)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the groups as JSON")
	addSourceFlag(c, &source)
	return c
}

// renderNSProxy prints the sets and, when the tasks came with nsproxy ids
// (the BPF source), each set's instances in place of its task list.
func renderNSProxy(w io.Writer, n int, g nsgroup.Groups) {
	renderNSProxyHeader(w, n, g)
	for i, s := range g.Sets {
		title := fmt.Sprintf("\nSET %d: %d task(s)", i+1, len(s.Tasks))
		if len(s.NSProxies) > 0 {
			title += fmt.Sprintf(" in %d nsproxy instance(s)", len(s.NSProxies))
		}
		if s.Init {
			title += ", init's"
		}
		fmt.Fprintln(w, title)
		tw := newTable(w)
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
				pins[i] = p.Link + " " + p.NS.String() + idSuffix(p.NS.ID)
			}
			fmt.Fprintf(w, "  %s: pins %s\n", taskRef(z.TaskRef), strings.Join(pins, ", "))
		}
	}
	if len(g.Unreadable) > 0 {
		fmt.Fprintf(w, "\n%d task(s) whose namespaces cannot be read:\n", len(g.Unreadable))
		for _, u := range g.Unreadable {
			fmt.Fprintf(w, "  %s: %s\n", taskRef(u.TaskRef), u.Error)
		}
	}
}

// renderNSProxyHeader says how many tasks, instances and sets there are,
// what userspace can know of them, and where init is.
func renderNSProxyHeader(w io.Writer, n int, g nsgroup.Groups) {
	links := strings.Join(nsgroup.NSProxyLinks, " ")
	if g.Instances != nil {
		fmt.Fprintf(w, "%d tasks in %d struct nsproxy instances with %d distinct namespace sets (%s).\n", n, len(g.Instances), len(g.Sets), links)
		fmt.Fprintf(w, "Note: %s.\n", nsproxyBPFNote)
	} else {
		fmt.Fprintf(w, "%d tasks in %d distinct nsproxy sets (%s).\n", n, len(g.Sets), links)
		fmt.Fprintf(w, "Note: %s.\n", nsproxyNote)
	}
	switch {
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
		s[i] = n.String() + idSuffix(n.ID)
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

func taskRef(r nsgroup.TaskRef) string { return render.TaskRef(r) }

func taskRefs(rs []nsgroup.TaskRef) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = taskRef(r)
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
