package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/nsgroup"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/sharing"
)

// Show prints show's table: one row per field, then the task's kernel
// objects when it has them.
func Show(w io.Writer, s inspect.Show) error {
	tw := NewTable(w)
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
	row("threads", "%d [%s]", s.Threads.Count, JoinInts(s.Threads.TIDs, " "))
	row("nspid", "%s", JoinInts(s.NSpid, " "))
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
		row("ns/"+n.Link, "%s:[%d]%s", n.Type, n.Inode, IDSuffix(n.ID))
	}
	if len(s.OtherNetSockets) > 0 {
		row("sockets in other net namespaces", "%s", SocketNetText(s.OtherNetSockets))
	}
	for _, m := range s.Missing {
		row("unavailable", "%s: %s", m.Field, m.Reason)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if s.Kernel != nil {
		return KernelObjects(w, s.Kernel)
	}
	return nil
}

func idMapString(m []procinfo.IDMapRange) string {
	parts := make([]string, len(m))
	for i, r := range m {
		parts[i] = fmt.Sprintf("%d->%d x%d", r.Inside, r.Outside, r.Count)
	}
	return strings.Join(parts, ", ")
}

// containerDetail is show's container row: the label, where it was
// recognised, and why the engine was not asked when it was not.
func containerDetail(c *engine.Container) string {
	s := inspect.ContainerLabel(c)
	switch {
	case c.Cgroup != "":
		s += ", cgroup " + c.Cgroup
	case c.Via == "conmon":
		s += ", from podman's conmon (no cgroup of its own)"
	case c.Via == "runc-state":
		s += ", from runc's state"
	}
	if c.Note != "" {
		s += " [" + c.Note + "]"
	}
	return s
}

// KernelObjects prints show's kernel section: one row per object,
// with at most a few of the tasks that share it.
func KernelObjects(w io.Writer, k *inspect.Kernel) error {
	fmt.Fprintln(w, "\nkernel objects of this task_struct, read with BPF (ids numbered per run: one id, one object):")
	tw := NewTable(w)
	fmt.Fprintln(tw, "  OBJECT\tFIELD\tID\tCLONE FLAG\tSHARED WITH")
	for _, o := range k.Objects {
		id, with := "none", "-"
		if o.ID != 0 {
			id, with = fmt.Sprint(o.ID), sharedText(o.SharedWith, 6)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", o.Name, o.Field, id, o.Flag, with)
	}
	return tw.Flush()
}

// sharedText names up to max tasks, then counts the rest.
func sharedText(ts []inspect.KernelTask, max int) string {
	if len(ts) == 0 {
		return "no other task"
	}
	names := make([]string, 0, max+1)
	for i, t := range ts {
		if i == max {
			names = append(names, fmt.Sprintf("and %d more (--json lists all)", len(ts)-max))
			break
		}
		names = append(names, kernelTaskText(t))
	}
	return fmt.Sprintf("%d: %s", len(ts), strings.Join(names, " "))
}

func kernelTaskText(t inspect.KernelTask) string {
	return TaskRef(nsgroup.TaskRef{PID: t.PID, TID: t.TID, Comm: t.Comm})
}

// SocketNetText names sockets and their network namespaces:
// "net:[4026532301] (fd 3), net:[4026532417] (fd 5)".
func SocketNetText(socks []sharing.SocketNet) string {
	parts := make([]string, len(socks))
	for i, sk := range socks {
		parts[i] = fmt.Sprintf("net:[%d] (fd %d)", sk.NS.Ino, sk.FD)
	}
	return strings.Join(parts, ", ")
}
