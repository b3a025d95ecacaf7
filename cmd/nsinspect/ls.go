package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
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
such as /run/netns/NAME), by an open file descriptor, or reachable only as
the parent or owner of another namespace. SOURCES says how each was found.

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
(NS_GET_ID), sources, threads, bindmounts (in every mount namespace) and
fds.

Where tasks are read (--source): bpf runs BPF task and task_file
iterators (root, kernel BTF, Linux 5.8+), which see every task in one
pass, kernel threads and tasks /proc refuses included; proc walks /proc.
auto, the default, picks the cheaper source that gives the full answer:
proc on a host of fewer than ` + strconv.Itoa(discover.AutoThreads) + ` threads (the BPF source's fixed cost,
about 65 ms of loading, is more than such a walk of /proc), bpf on a larger
one, and bpf where /proc cannot give what BPF does: from a pid namespace
other than the initial one (its parent), and where /proc refuses a read
(another user's processes without CAP_SYS_PTRACE, a sandbox's PID 1).
Where it wants bpf and BPF cannot run it reads /proc, with one note on
stderr. The table's last line and the JSON's "source" key say which ran;
--source forces one, and --source bpf where BPF cannot run exits 4.

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
	f.StringVarP(&o.pid, "task", "p", "", `only the namespaces of this process ("self", PID or PID:TID)`)
	f.BoolVarP(&o.json, "json", "J", false, "print JSON, a superset of lsns -J")
	f.BoolVarP(&o.tree, "tree", "T", false, "print the user namespace tree with owned namespaces, then the pid namespace tree")
	addSourceFlag(c, &o.source)
	return c
}

func runLs(stdout, stderr io.Writer, o lsOptions) error {
	held := namespaces.NewHolder()
	defer held.Close()
	keep, err := lsFilter(o, held)
	if err != nil {
		return err
	}
	if o.json && o.tree {
		return usageErrorf("--json and --tree cannot be combined (pick one output format)")
	}
	// The fds held for -p are nsinspect's, not holders to list.
	res, err := discoverFrom(o.source, discover.Options{OwnFDs: held.FDs()}, stderr)
	if err != nil {
		return err
	}
	var list []*model.Namespace
	for _, ns := range res.Namespaces {
		if keep(ns) {
			list = append(list, ns)
		}
	}
	users := newUserCache()
	switch {
	case o.json:
		return writeJSON(stdout, lsJSON(res.Source, list, users))
	case o.tree:
		return lsTree(stdout, res.Namespaces, keep, users)
	default:
		if err := lsTable(stdout, list, users); err != nil {
			return err
		}
		_, err := fmt.Fprintf(stdout, "\n%d namespaces, %d processes; source: %s\n", len(list), res.Processes, sourceText(res.Source))
		return err
	}
}

// lsFilter turns -t and -p into a predicate. -p pins the process and
// reads its namespaces before the scan, giving them to held, so that a
// process that exits meanwhile still selects the namespaces it was in and
// their identities stay comparable with the scan's.
func lsFilter(o lsOptions, held *namespaces.Holder) (func(*model.Namespace) bool, error) {
	types := map[namespaces.Type]bool{}
	for _, arg := range o.types {
		for _, s := range strings.Split(arg, ",") {
			t, err := namespaces.ParseType(s)
			if err != nil {
				return nil, usageErrorf("-t: %v", err)
			}
			types[t] = true
		}
	}
	var ids map[namespaces.Key]bool
	if o.pid != "" {
		p, err := openTask(o.pid)
		if err != nil {
			return nil, err
		}
		defer p.Close()
		links, err := p.NamespacesHeld(held)
		if err != nil {
			return nil, nsReadError(o.pid, p, err)
		}
		ids = map[namespaces.Key]bool{}
		// A zombie's nsproxy was dropped at exit: only its pid and user
		// links still resolve, and those are its namespaces to list.
		st, _ := p.Stat()
		zombie := st.State == 'Z'
		for _, l := range links {
			if l.Err != nil && zombie && errors.Is(l.Err, unix.ENOENT) {
				continue
			}
			if l.Err != nil {
				return nil, nsReadError(o.pid, p, l.Err)
			}
			ids[l.NS.Key()] = true
		}
	}
	return func(ns *model.Namespace) bool {
		return (len(types) == 0 || types[ns.Type]) && (ids == nil || ids[ns.Key()])
	}, nil
}

func deniedLine(d model.Denied) string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(d.NSLinks, "processes' ns links (NPROCS, PID, USER, COMMAND undercounted)")
	add(d.Threads, "threads' ns links (thread-only namespaces)")
	add(d.FDs, "processes' fd tables (fd-held namespaces)")
	add(d.Mountinfo, "mount tables or nsfs mount points (bind-mounted namespaces)")
	add(d.Relatives, "parent/owner lookups (PARENT, OWNER)")
	why := ": other users' processes need CAP_SYS_PTRACE (run as root for a complete list)"
	if os.Geteuid() == 0 {
		// Root was refused: the task holds capabilities outside our
		// bounding set, is in a user namespace ours does not own, or a
		// security module said no (this VM's pid 1 does all of that).
		why = ": refused even to root (tasks with capabilities nsinspect lacks, in a user namespace it does not own, or denied by a security module)"
	}
	return "could not read " + strings.Join(parts, ", ") + why
}

// userCache maps uids to names once each; there are few distinct uids
// among thousands of processes.
type userCache map[uint32]string

func newUserCache() userCache { return userCache{} }

func (c userCache) name(uid uint32) string {
	if n, ok := c[uid]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(uid), 10)
	if u, err := user.LookupId(n); err == nil {
		n = u.Username
	}
	c[uid] = n
	return n
}

// holderText says what holds a namespace no process is in, for the
// COMMAND column and the tree.
func holderText(ns *model.Namespace) string {
	switch {
	case len(ns.Threads) > 0:
		t := ns.Threads[0]
		return fmt.Sprintf("(thread %d of pid %d)", t.TID, t.PID)
	case len(ns.BindMounts) > 0:
		return "(bind mount " + ns.BindMounts[0].Path + ")"
	case len(ns.FDs) > 0:
		f := ns.FDs[0]
		return fmt.Sprintf("(fd %d of pid %d)", f.FD, f.PID)
	case ns.Sources&model.FromChildren != 0:
		return "(for children)"
	case ns.Sources&model.FromParent != 0:
		return "(parent only)"
	case ns.Sources&model.FromOwner != 0:
		return "(owner only)"
	}
	return ""
}

func lsTable(w io.Writer, list []*model.Namespace, users userCache) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "NS\tTYPE\tNPROCS\tPID\tPPID\tUSER\tID\tPARENT\tOWNER\tNETNSID\tSOURCES\tCOMMAND")
	for _, ns := range list {
		pid, ppid, usr, cmd := "-", "-", "-", holderText(ns)
		if ns.NProcs > 0 {
			pid, ppid, usr, cmd = strconv.Itoa(ns.PID), strconv.Itoa(ns.PPID), users.name(ns.UID), ns.Command
		}
		netnsid := ""
		if ns.NetNSID >= 0 {
			netnsid = strconv.Itoa(ns.NetNSID)
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			ns.Ino, ns.Type.Name(), ns.NProcs, pid, ppid, usr, idOf(ns.NS),
			inoOf(ns.Parent), inoOf(ns.Owner), netnsid, ns.Sources, cmd)
	}
	return tw.Flush()
}

// idOf is the NS_GET_ID column: "-" on a kernel that gives none.
func sourceText(s string) string {
	switch s {
	case "bpf":
		return "bpf (the kernel's task list, read by BPF iterators)"
	case "proc":
		return "proc (/proc/PID/ns and friends)"
	}
	return s
}

func idOf(ns namespaces.NS) string {
	if ns.ID == 0 {
		return "-"
	}
	return strconv.FormatUint(ns.ID, 10)
}

func inoOf(ns *model.Namespace) string {
	if ns == nil {
		return "-"
	}
	return strconv.FormatUint(ns.Ino, 10)
}
