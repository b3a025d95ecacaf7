package main

import (
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "ls",
		Short: "List every namespace on the host, including those lsns(8) cannot see",
	}, newLsCmd)
}

type lsOptions struct {
	types  []string
	pid    string
	json   bool
	tree   bool
	source string
}

func newLsCmd() *cobra.Command {
	var o lsOptions
	c := &cobra.Command{
		Long: `ls lists every namespace it can find, with the columns of lsns(8) and more.

Besides the namespaces processes are in (what lsns shows), it finds those
held only by a thread (/proc/PID/task/TID/ns), by a bind mount (nsfs mounts
such as /run/netns/NAME), by an open file descriptor (also one opened
through a path), by a socket made in another network namespace (socket),
as a pid namespace that unshare -p made and no process is in yet (unborn),
or reachable only as the parent or owner of another namespace. SOURCES
says how each was found.

Columns: NS (inode), TYPE, NPROCS (processes in it), PID (the lowest), PPID,
USER (owner of /proc/PID), ID (NS_GET_ID, never reused), PARENT (pid/user:
parent's inode), OWNER (owning user namespace's inode), NETNSID (the id our
network namespace gave it, blank when unassigned), SOURCES, COMMAND.

--json prints {"schema_version":1,"source":...,"namespaces":[...]}, a superset of lsns -J
--output-all: each namespace starts with lsns's thirteen keys, in its order
and with its JSON types (util-linux 2.38 to 2.42): ns, type, path
(/proc/PID/ns/TYPE of the lowest PID), nprocs, pid, ppid, command, uid,
user (path to user are null when no process is in the namespace), netnsid
(a string, the id or "unassigned"; null for other types), nsfs (its bind
mounts in our mount namespace, one per line; null for none), pns and ons
(inodes, 0 for none). Then nsinspect's own: zombies, id, parent and owner
(NS_GET_ID), sources, threads, bindmounts (in every mount namespace),
fds and sockets.

Where tasks are read (--source): bpf runs BPF task and task_file
iterators (root, kernel BTF, Linux 5.8+), which see every task in one
pass, kernel threads and tasks /proc refuses included; proc walks /proc.
auto, the default, picks the cheaper source that gives the full answer:
proc on a host of fewer than ` + strconv.Itoa(discover.AutoThreads) + ` threads (the BPF source's fixed cost,
about 35 ms of loading, is more than such a walk of /proc), bpf on a larger
one, and bpf where /proc cannot give what BPF does: from a pid namespace
other than the initial one (its parent), and where /proc refuses a read
(another user's processes without CAP_SYS_PTRACE, a sandbox's PID 1).
Where it wants bpf and BPF cannot run it reads /proc, with one note on
stderr. The table's last line and the JSON's "source" key say which ran;
--source forces one, and --source bpf where BPF cannot run exits 4.

--source listns (Linux 6.19+) walks /proc as proc does, holders included,
then asks the kernel's own list of active namespaces, listns(2), and adds
each one the walk missed, opened by its id, with the source listns (active,
its holder not found). A network namespace held only by a socket is found
by the walk alone: a socket does not make its namespace active. Only root
in the initial user and pid namespaces gets listns's whole list; anyone
else gets a filtered subset, which is added all the same, and one note on
stderr says so. On an older kernel it exits 4. auto does the same after
its own pass where listns(2) gives the whole list; its source stays proc
or bpf.

Without root, namespaces of other users' processes need CAP_SYS_PTRACE: ls
prints what it can and says on stderr what it could not read.`,
		Example: `  nsinspect ls
  nsinspect ls -t net --json
  nsinspect ls -p self
  nsinspect ls --tree`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error { return runLs(c.OutOrStdout(), c.ErrOrStderr(), o) },
	}
	f := c.Flags()
	f.StringArrayVarP(&o.types, "type", "t", nil, "only namespaces of this type (repeatable or comma-separated: "+strings.Join(namespaces.TypeNames(), ", ")+")")
	f.StringVarP(&o.pid, "task", "p", "", "only the namespaces of `TASK` ("+inspect.TargetForms()+")")
	f.BoolVarP(&o.json, "json", "J", false, "print JSON, a superset of lsns -J")
	f.BoolVarP(&o.tree, "tree", "T", false, "print the user namespace tree with owned namespaces, then the pid namespace tree")
	addSourceFlag(c, &o.source)
	return c
}

func runLs(stdout, stderr io.Writer, o lsOptions) error {
	if o.json && o.tree {
		return usageErrorf("--json and --tree cannot be combined (pick one output format)")
	}
	p, notes, err := inspect.LsFilter{Types: o.types, Task: o.pid}.Pass(o.source)
	printNotes(stderr, notes)
	if err != nil {
		return err
	}
	users := inspect.UserNames{}
	switch {
	case o.json:
		return writeJSON(stdout, inspect.LsOf(p.Model.Source, p.List, users))
	case o.tree:
		return render.LsTree(stdout, p.Model.Namespaces, p.Keep, users)
	}
	if err := render.LsTable(stdout, p.List, users); err != nil {
		return err
	}
	return render.LsSummary(stdout, len(p.List), p.Model.Processes, p.Model.Source)
}
