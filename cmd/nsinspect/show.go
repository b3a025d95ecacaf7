package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/schema"
)

func init() {
	register(&cobra.Command{
		Use:   "show PID|self|PID:TID",
		Short: "Show one task as far as /proc exposes its task_struct",
	}, newShowCmd)
}

// showJSON is one task in `show --json`: what /proc exposes of its
// task_struct.
type showJSON struct {
	SchemaVersion schema.Version        `json:"schema_version"`
	PID           int                   `json:"pid"`
	TID           int                   `json:"tid"`
	Tgid          int                   `json:"tgid"`
	PPid          int                   `json:"ppid"`
	State         string                `json:"state"`
	Comm          string                `json:"comm"`
	Kthread       bool                  `json:"kthread"` // PF_KTHREAD in stat's flags
	Zombie        bool                  `json:"zombie"`
	Threads       threadsJSON           `json:"threads"`
	NSpid         []int                 `json:"nspid"`
	NStgid        []int                 `json:"nstgid"`
	UID           [4]uint32             `json:"uid"` // real, effective, saved, filesystem
	GID           [4]uint32             `json:"gid"`
	UIDMap        []procinfo.IDMapRange `json:"uid_map"`
	GIDMap        []procinfo.IDMapRange `json:"gid_map"`
	Cgroups       []procinfo.Cgroup     `json:"cgroups"`
	// Container is the container the cgroup paths name (nil: none).
	Container *procinfo.Container    `json:"container,omitempty"`
	Cwd       string                 `json:"cwd,omitempty"`
	Root      string                 `json:"root,omitempty"`
	Umask     string                 `json:"umask,omitempty"` // octal, "0022"
	Signals   map[string]signalsJSON `json:"signals"`         // SigPnd, ShdPnd, SigBlk, SigIgn, SigCgt
	NS        []showNSJSON           `json:"namespaces"`
	Missing   []missingJSON          `json:"unavailable,omitempty"`
	Note      string                 `json:"note,omitempty"`
	// Kernel is the task's kernel objects, with --kernel only.
	Kernel *kernelJSON `json:"kernel,omitempty"`
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
	Inode uint64 `json:"ns,omitempty"`
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
	var asJSON, kernel bool
	c := &cobra.Command{
		Long: `show prints one task: pid, tgid, ppid, state, comm, threads, the NSpid chain,
uid/gid and their maps, cgroups (and the container they name: engine, id,
and the name from the Docker engine when its socket answers), cwd, root, umask, signal masks (hex and
names), whether it is a kernel thread (PF_KTHREAD), and its ten namespace
links with inode and NS_GET_ID.

A zombie keeps only what /proc still gives: its namespaces, cwd and root are
released. Without the privilege to read a field (cwd, root and the namespace
links need ` + procinfo.PtraceNeed + ` for another user's process) the rest is
printed, the field is named under "unavailable", and show exits 4.

--kernel adds what /proc cannot show: the task's nine kernel objects, read
from its task_struct by a BPF task iterator, and for each the other tasks
that point to the same one: nsproxy (task->nsproxy), files, fs, mm,
sighand, signal, cred (task->real_cred), io (task->io_context) and sysvsem
(task->sysvsem.undo_list). A clone(2) flag decides what a child shares
(CLONE_FILES, CLONE_FS, CLONE_VM, CLONE_SIGHAND, CLONE_THREAD for signal
and cred, CLONE_IO, CLONE_SYSVSEM); the nsproxy is shared unless clone(2)
gets a CLONE_NEW* flag, and unshare(2) and setns(2) replace it. "none" is a NULL pointer: no mm for a kernel
thread, no io_context before the task's first I/O, no undo list before
semop(SEM_UNDO). Ids are numbered per run, never addresses. --kernel needs
root, kernel BTF and Linux 5.8+: elsewhere it exits 4 saying why. In
--json it is the "kernel" object: {"source", "note", "objects": [{"name",
"field", "id" (0: none), "clone_flag", "shared_with": [{"pid", "tid",
"comm"}]}]}.

` + exitCodesHelp,
		Example: `  nsinspect show self
  nsinspect show 2
  nsinspect show --json 1234:1240
  nsinspect show --kernel $$`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			read := readShow
			if kernel {
				read = readShowKernel
			}
			return viewTask(cmd.OutOrStdout(), args[0], asJSON, read, func(w io.Writer, out showJSON) error {
				writeShow(w, out)
				if out.Kernel != nil {
					return writeKernelObjects(w, out.Kernel)
				}
				return nil
			})
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	c.Flags().BoolVar(&kernel, "kernel", false, "add the task's kernel objects (nsproxy, files, mm, ...) and who shares them, read with BPF")
	return c
}

// readShowKernel is readShow plus the kernel objects. The iterator runs
// first: where it cannot, nothing else is worth reading.
func readShowKernel(p *procinfo.Proc) (showJSON, error) {
	snap, ts, err := kernelTasks(p)
	if err != nil {
		return showJSON{}, err
	}
	out, err := readShow(p)
	if err != nil {
		return out, err
	}
	out.Kernel = kernelObjects(snap, ts[0])
	return out, nil
}

// readShow turns one procinfo snapshot into show's view. The snapshot's
// rules decide what is read and when to read again (a task that exits
// midway); show only names its fields: a zombie's released fields are the
// note's, not "unavailable", and the ten namespace links share one entry.
func readShow(p *procinfo.Proc) (showJSON, error) {
	out := showJSON{PID: p.PID, TID: p.TID, Signals: map[string]signalsJSON{}}
	t, err := p.Snapshot(procinfo.PartTIDs | procinfo.PartIDMaps | procinfo.PartCgroup | procinfo.PartFS)
	if err != nil {
		var fe *procinfo.FieldError
		if errors.As(err, &fe) {
			return out, readError(p, fe.Field, fe.Err)
		}
		return out, err
	}
	st, status := t.Stat, t.Status
	out.Comm, out.State = st.Comm, status.State
	out.Kthread, out.Zombie = st.IsKthread(), t.Zombie()
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
	out.Threads = threadsJSON{Count: status.Threads, TIDs: t.TIDs}
	if out.Zombie {
		out.Note = zombieNote
	}
	out.UIDMap, out.GIDMap, out.Cgroups = t.UIDMap, t.GIDMap, t.Cgroups
	out.Container = (&containerNames{}).fromCgroups(p.PID, out.Cgroups)
	out.Cwd, out.Root = t.Cwd, t.Root

	denied := false
	for _, l := range t.Namespaces {
		j := showNSJSON{Link: l.Link.Name}
		if l.Err == nil {
			j.Type, j.Inode, j.ID = l.NS.Type.Name(), l.NS.Ino, l.NS.ID
		}
		out.NS = append(out.NS, j)
	}
	for _, m := range t.Missing {
		if link, ok := strings.CutPrefix(m.Field, "ns/"); ok {
			for i := range out.NS {
				if out.NS[i].Link == link {
					out.NS[i].Error = showNSError(m)
				}
			}
			denied = denied || m.Cause == procinfo.CauseDenied
			continue
		}
		if m.Cause != procinfo.CauseReleased {
			out.Missing = append(out.Missing, missingJSON{showField(m.Field), m.Reason})
		}
	}
	if denied {
		out.Missing = append(out.Missing, missingJSON{"namespaces", "needs " + procinfo.PtraceNeed})
	}
	var refused []string
	for _, m := range t.Missing {
		if m.Cause == procinfo.CauseDenied && !strings.HasPrefix(m.Field, "ns/") {
			refused = append(refused, showField(m.Field))
		}
	}
	if denied {
		refused = append(refused, "namespaces")
	}
	if len(refused) > 0 {
		// The rest is a report worth printing; the exit code still says
		// that the kernel refused part of it.
		return out, partialRead{privilegeErrorf("show %d: %s could not be read: %s (the rest is printed)",
			p.PID, strings.Join(refused, ", "), procinfo.DeniedHint("reading them"))}
	}
	return out, nil
}

// showField is the name show's JSON gives a field of the snapshot.
func showField(procFile string) string {
	switch procFile {
	case "task":
		return "threads.tids"
	case "cgroup":
		return "cgroups"
	}
	return procFile
}

// showNSError is the word for a namespace link that could not be read.
func showNSError(m procinfo.Missing) string {
	switch m.Cause {
	case procinfo.CauseReleased:
		return "released"
	case procinfo.CauseDenied:
		return "permission denied"
	}
	return m.Reason
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
		row("container", "%s", containerDetail(s.Container))
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
