package main

import (
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/procinfo"
)

func init() { register(newShowCmd) }

// showJSON is one task in `show --json`: what /proc exposes of its
// task_struct.
type showJSON struct {
	PID     int                   `json:"pid"`
	TID     int                   `json:"tid"`
	Tgid    int                   `json:"tgid"`
	PPid    int                   `json:"ppid"`
	State   string                `json:"state"`
	Comm    string                `json:"comm"`
	Kthread bool                  `json:"kthread"` // PF_KTHREAD in stat's flags
	Zombie  bool                  `json:"zombie"`
	Threads threadsJSON           `json:"threads"`
	NSpid   []int                 `json:"nspid"`
	NStgid  []int                 `json:"nstgid"`
	UID     [4]uint32             `json:"uid"` // real, effective, saved, filesystem
	GID     [4]uint32             `json:"gid"`
	UIDMap  []procinfo.IDMapRange `json:"uid_map"`
	GIDMap  []procinfo.IDMapRange `json:"gid_map"`
	Cgroups []procinfo.Cgroup     `json:"cgroups"`
	// Container is the container the cgroup paths name (nil: none).
	Container *procinfo.Container    `json:"container,omitempty"`
	Cwd       string                 `json:"cwd,omitempty"`
	Root      string                 `json:"root,omitempty"`
	Umask     string                 `json:"umask,omitempty"` // octal, "0022"
	Signals   map[string]signalsJSON `json:"signals"`         // SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt
	NS        []showNSJSON           `json:"namespaces"`
	Missing   []missingJSON          `json:"unavailable,omitempty"`
	Note      string                 `json:"note,omitempty"`
}

type threadsJSON struct {
	Count int   `json:"count"`
	TIDs  []int `json:"tids"`
}

type signalsJSON struct {
	Hex   string   `json:"hex"`
	Names []string `json:"names"`
}

type showNSJSON struct {
	Link  string `json:"link"` // name under /proc/PID/ns
	Type  string `json:"type,omitempty"`
	Inode uint64 `json:"inode,omitempty"`
	ID    uint64 `json:"id,omitempty"` // NS_GET_ID
	Error string `json:"error,omitempty"`
}

// missingJSON names a field /proc would not give, and why.
type missingJSON struct {
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// zombieNote: exit_task_namespaces() drops the nsproxy, so a zombie's
// ns links give ENOENT; its pid and user namespaces stay readable, because
// they hang off its struct pid and its credentials (measured on 6.18).
const zombieNote = "zombie: namespaces released (pid and user remain: they hang off struct pid and the credentials)"

func newShowCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show PID|self|PID:TID",
		Short: "Show one task as far as /proc exposes its task_struct",
		Long: `show prints one task: pid, tgid, ppid, state, comm, threads, the NSpid chain,
uid/gid and their maps, cgroups (and the container they name: engine, id,
and the name from the Docker engine when its socket answers), cwd, root, umask, signal masks (hex and
names), whether it is a kernel thread (PF_KTHREAD), and its ten namespace
links with inode and NS_GET_ID.

A zombie keeps only what /proc still gives: its namespaces, cwd and root are
released. Without the privilege to read a field (cwd, root and the namespace
links need ` + ptraceNeed + ` for another user's process) the rest is
printed and the field is named under "unavailable".`,
		Example: `  nsinspect show self
  nsinspect show 2
  nsinspect show --json 1234:1240`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := openTask(args[0])
			if err != nil {
				return err
			}
			defer p.Close()
			out, err := readShow(p)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			writeShow(cmd.OutOrStdout(), out)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	return c
}

// readShow reads everything best-effort: stat and status must be there,
// any other field that fails is named in Missing with its reason. It
// ends with a liveness check so nothing from a reused PID is printed.
//
// A process that exits during the reads is still "alive" to the pidfd
// while it is a zombie, but its namespaces, cwd and root vanish midway
// (exit_task_namespaces runs before the state becomes Z): the reads then
// straddle the exit. Wait for the exit to finish (the pidfd polls readable
// once the process is a zombie) and read again: a zombie stays one, so
// the second view is consistent, or the process is gone (exit 2).
func readShow(p *procinfo.Proc) (showJSON, error) {
	out, err := readShowOnce(p)
	if err != nil || out.Zombie || !exiting(out) {
		return out, err
	}
	unix.Poll([]unix.PollFd{{Fd: int32(p.Pidfd()), Events: unix.POLLIN}}, 1000)
	return readShowOnce(p)
}

// exiting reports whether a namespace link vanished from a live task.
func exiting(out showJSON) bool {
	for _, n := range out.NS {
		if n.Error != "" && n.Error != "permission denied" {
			return true
		}
	}
	return false
}

func readShowOnce(p *procinfo.Proc) (showJSON, error) {
	out := showJSON{PID: p.PID, TID: p.TID, Signals: map[string]signalsJSON{}}
	st, err := p.Stat()
	if err != nil {
		return out, readError(p, "stat", err)
	}
	status, err := p.Status()
	if err != nil {
		return out, readError(p, "status", err)
	}
	out.Comm, out.State = st.Comm, status.State
	out.Kthread, out.Zombie = st.IsKthread(), st.State == 'Z'
	out.Tgid, out.PPid = status.Tgid, status.PPid
	out.NSpid, out.NStgid = status.NSpid, status.NStgid
	out.UID, out.GID = status.Uid, status.Gid
	if status.Umask >= 0 {
		out.Umask = fmt.Sprintf("%04o", status.Umask)
	}
	for _, m := range []struct {
		name string
		v    uint64
	}{{"SigPnd", status.SigPnd}, {"ShdPnd", status.ShdPnd}, {"SigBlk", status.SigBlk}, {"SigIgn", status.SigIgn}, {"SigCgt", status.SigCgt}} {
		out.Signals[m.name] = signalsJSON{Hex: fmt.Sprintf("%016x", m.v), Names: nonNil(procinfo.SignalNames(m.v))}
	}
	out.Threads = threadsJSON{Count: status.Threads}
	if out.Zombie {
		out.Note = zombieNote
	}

	miss := func(field string, err error) {
		switch {
		case out.Zombie && errors.Is(err, unix.ENOENT):
			// Released by exit; the note says so once.
		case isDenied(err):
			out.Missing = append(out.Missing, missingJSON{field, "needs " + ptraceNeed})
		default:
			out.Missing = append(out.Missing, missingJSON{field, err.Error()})
		}
	}
	if tids, err := threadIDs(p); err != nil {
		miss("threads.tids", err)
	} else {
		out.Threads.TIDs = tids
	}
	if out.UIDMap, err = p.UIDMap(); err != nil {
		miss("uid_map", err)
	}
	if out.GIDMap, err = p.GIDMap(); err != nil {
		miss("gid_map", err)
	}
	if out.Cgroups, err = p.Cgroups(); err != nil {
		miss("cgroups", err)
	}
	out.Container = (&containerNames{}).fromCgroups(out.Cgroups)
	if out.Cwd, err = p.Readlink("cwd"); err != nil {
		miss("cwd", err)
	}
	if out.Root, err = p.Readlink("root"); err != nil {
		miss("root", err)
	}
	links, err := p.Namespaces()
	if err != nil {
		return out, readError(p, "namespaces", err)
	}
	denied := false
	for _, l := range links {
		j := showNSJSON{Link: l.Link.Name}
		switch {
		case l.Err == nil:
			j.Type, j.Inode, j.ID = l.NS.Type.Name(), l.NS.Ino, l.NS.ID
		case out.Zombie && errors.Is(l.Err, unix.ENOENT):
			j.Error = "released"
		case isDenied(l.Err):
			j.Error, denied = "permission denied", true
		default:
			j.Error = l.Err.Error()
		}
		out.NS = append(out.NS, j)
	}
	if denied {
		out.Missing = append(out.Missing, missingJSON{"namespaces", "needs " + ptraceNeed})
	}
	if err := p.Alive(); err != nil {
		return out, readError(p, "status", err)
	}
	return out, nil
}

// threadIDs lists the thread group's TIDs. A thread's own directory has
// no task/, so for PID:TID the group leader is pinned to read it.
func threadIDs(p *procinfo.Proc) ([]int, error) {
	leader := p
	if p.IsThread() {
		l, err := procinfo.Open(p.PID)
		if err != nil {
			return nil, err
		}
		defer l.Close()
		leader = l
	}
	names, err := leader.ReadDirNames("task")
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(names))
	for _, n := range names {
		if t, err := strconv.Atoi(n); err == nil {
			tids = append(tids, t)
		}
	}
	sort.Ints(tids)
	return tids, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func writeShow(w io.Writer, s showJSON) {
	tw := newTable(w)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s:\t"+format+"\n", append([]any{k}, a...)...) }
	row("pid", "%d", s.PID)
	if s.TID != s.PID {
		row("tid", "%d", s.TID)
	}
	row("tgid", "%d", s.Tgid)
	row("ppid", "%d", s.PPid)
	row("comm", "%s", s.Comm)
	row("state", "%s", s.State)
	row("kthread", "%t", s.Kthread)
	if s.Note != "" {
		row("note", "%s", s.Note)
	}
	row("threads", "%d [%s]", s.Threads.Count, joinInts(s.Threads.TIDs, " "))
	row("nspid", "%s", joinInts(s.NSpid, " "))
	row("uid", "%d %d %d %d", s.UID[0], s.UID[1], s.UID[2], s.UID[3])
	row("gid", "%d %d %d %d", s.GID[0], s.GID[1], s.GID[2], s.GID[3])
	row("uid_map", "%s", idMapString(s.UIDMap))
	row("gid_map", "%s", idMapString(s.GIDMap))
	if s.Container != nil {
		row("container", "%s, cgroup %s", containerLabel(s.Container), s.Container.Cgroup)
	}
	for _, c := range s.Cgroups {
		row("cgroup", "%d:%s:%s", c.HierarchyID, strings.Join(c.Controllers, ","), c.Path)
	}
	row("cwd", "%s", s.Cwd)
	row("root", "%s", s.Root)
	row("umask", "%s", s.Umask)
	for _, k := range []string{"SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt"} {
		m := s.Signals[k]
		row(k, "%s %s", m.Hex, strings.Join(m.Names, ","))
	}
	for _, n := range s.NS {
		if n.Error != "" {
			row("ns/"+n.Link, "(%s)", n.Error)
			continue
		}
		row("ns/"+n.Link, "%s:[%d]%s", n.Type, n.Inode, idSuffix(n.ID))
	}
	for _, m := range s.Missing {
		row("unavailable", "%s: %s", m.Field, m.Reason)
	}
	tw.Flush()
}

func idMapString(m []procinfo.IDMapRange) string {
	parts := make([]string, len(m))
	for i, r := range m {
		parts[i] = fmt.Sprintf("%d->%d x%d", r.Inside, r.Outside, r.Count)
	}
	return strings.Join(parts, ", ")
}
