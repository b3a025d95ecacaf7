package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/render"
	"github.com/nsinspect/nsinspect/schema"
)

func init() {
	register(&cobra.Command{
		Use:   "fds PID",
		Short: "List a process's open file descriptors with kind, flags, mount and inode",
	}, newFdsCmd)
}

// fdJSON is one fd in `fds --json`.
type fdJSON struct {
	FD         int        `json:"fd"`
	Kind       string     `json:"kind"`
	AnonName   string     `json:"anon_name,omitempty"` // "[eventfd]", "inotify"
	Path       string     `json:"path"`                // readlink of /proc/PID/fd/N, as the kernel names it
	Pos        int64      `json:"pos"`
	Flags      string     `json:"flags"`       // "O_RDWR|O_CLOEXEC"
	FlagsOctal string     `json:"flags_octal"` // as in fdinfo
	MntID      int        `json:"mnt_id"`
	MountPoint string     `json:"mount_point,omitempty"` // of mnt_id, in the process's own mountinfo
	Inode      uint64     `json:"inode"`
	Pidfd      *pidfdJSON `json:"pidfd,omitempty"`
	Namespace  *fdNSJSON  `json:"namespace,omitempty"`
	Extra      []string   `json:"extra,omitempty"` // kind-specific fdinfo lines
}

type pidfdJSON struct {
	Pid   int   `json:"pid"` // 0: outside our pid namespace, -1: reaped
	NSpid []int `json:"nspid,omitempty"`
}

type fdNSJSON struct {
	Type  string `json:"type,omitempty"`
	Inode uint64 `json:"ns,omitempty"`
	ID    uint64 `json:"id,omitempty"` // NS_GET_ID
	Error string `json:"error,omitempty"`
}

type fdsJSON struct {
	SchemaVersion schema.Version `json:"schema_version"`
	PID           int            `json:"pid"`
	FDs           []fdJSON       `json:"fds"`
}

func newFdsCmd() *cobra.Command {
	var asJSON, kernel bool
	c := &cobra.Command{
		Long: `fds lists the fd table of a process, the userspace view of the kernel's
files->fdt->fd[i]: for each fd its number, kind (regular, dir, socket, pipe,
fifo, anon_inode, nsfs, pidfd, memfd, chr, blk, unknown), the path the kernel
names (" (deleted)" included), position, decoded open flags, mnt_id and inode.
A pidfd shows the process it refers to; an nsfs fd shows the namespace, with
its NS_GET_ID.

The kind comes from the link text of /proc/PID/fd/N and the st_mode of what
it leads to; everything else from /proc/PID/fdinfo/N. An fd closed while it
is read is left out. Reading another user's process needs ` + procinfo.PtraceNeed + `.

--kernel does the course notes' gdb loop live: a BPF task iterator walks
` + bpfiter.WalkPath + `
in kernel memory, and each fd's dentry name, inode number, i_mode, f_flags
and filesystem (the superblock's s_magic) are printed beside what
readlink /proc/PID/fd/N and fdinfo said just before. For a file reached by a
path the dentry name is the path's last component. Pipes, sockets,
anonymous inodes, pidfds and namespaces have no path: a pipe's dentry name
is empty (""), a socket's is its protocol ("TCP", "UNIX-STREAM"), an
anonymous inode's is bracketed ("[eventfd]", "[eventpoll]"), a pidfd's or a
namespace's is "/", and what /proc shows ("pipe:[N]", "socket:[N]",
"anon_inode:[eventfd]", "net:[N]") is made up by the filesystem's d_dname
when readlink asks, so those names are not compared. An fd open in one view
and not the other (closed or opened between the two reads), an inode that
differs (the number was reused) or a path whose last component is not the
dentry name is marked "!" and explained (fds --kernel self sees the walk's
own BPF fds as opened between the reads: they are). --kernel takes a PID, not
PID:TID, and needs root, kernel BTF and Linux 5.8+: elsewhere it exits 4
saying why. --json prints {"schema_version", "pid", "walk", "max_fds", "agree", "fds":
[{"fd", "kernel": {"d_name", "i_ino", "i_mode", "type", "f_flags", "fs",
"s_magic"}, "proc": {"readlink", "inode", "kind"}, "disagree": [...]}]},
with null for the view an fd was not open in.

` + exitCodesHelp,
		Example: `  nsinspect fds self
  nsinspect fds --json 1234
  nsinspect fds --kernel $$`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if kernel {
				return viewTask(cmd.OutOrStdout(), args[0], asJSON, readFDsKernel, writeFDsKernel)
			}
			return viewTask(cmd.OutOrStdout(), args[0], asJSON, readFDs, writeFDTable)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON object {schema_version, pid, fds: [...]}")
	c.Flags().BoolVar(&kernel, "kernel", false, "walk the fd table in kernel memory with BPF, beside /proc's view")
	return c
}

func readFDs(p *procinfo.Proc) (fdsJSON, error) {
	fds, err := p.FDs()
	if err != nil {
		return fdsJSON{}, readError(p, "fd table", err)
	}
	// mnt_id names a mount of the process's own mount namespace. Its
	// mountinfo is a nicety: without it (a zombie has none) the ids stay.
	mounts := map[int]string{}
	if ms, err := p.MountInfo(); err == nil {
		for _, m := range ms {
			mounts[m.ID] = m.MountPoint
		}
	}
	out := fdsJSON{PID: p.PID, FDs: make([]fdJSON, 0, len(fds))}
	for _, fd := range fds {
		j := fdJSON{
			FD:         fd.Num,
			Kind:       string(fd.Kind),
			AnonName:   fd.AnonName,
			Path:       fd.Link,
			Pos:        fd.Info.Pos,
			Flags:      strings.Join(procinfo.OpenFlagNames(fd.Info.Flags), "|"),
			FlagsOctal: "0" + strconv.FormatUint(uint64(fd.Info.Flags), 8),
			MntID:      fd.Info.MntID,
			MountPoint: mounts[fd.Info.MntID],
			Inode:      fd.Info.Ino,
			Extra:      fd.Info.Extra,
		}
		if fd.Info.Pid != nil {
			j.Pidfd = &pidfdJSON{Pid: *fd.Info.Pid, NSpid: fd.Info.NSpid}
		}
		if fd.Kind == procinfo.KindNsfs {
			j.Namespace = &fdNSJSON{}
			if fd.NS != nil {
				j.Namespace = &fdNSJSON{Type: fd.NS.Type.Name(), Inode: fd.NS.Ino, ID: fd.NS.ID}
			} else if fd.NSErr != nil {
				j.Namespace.Error = fd.NSErr.Error()
			}
		}
		out.FDs = append(out.FDs, j)
	}
	return out, nil
}

func writeFDTable(w io.Writer, out fdsJSON) error {
	tw := newTable(w)
	fmt.Fprintln(tw, "FD\tKIND\tFLAGS\tPOS\tMNTID\tINODE\tNAME\tDETAIL")
	for _, f := range out.FDs {
		flags := strings.TrimPrefix(strings.ReplaceAll(f.Flags, "|O_", "|"), "O_")
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", f.FD, f.Kind, flags, f.Pos, f.MntID, f.Inode, f.Path, fdDetail(f))
	}
	return tw.Flush()
}

// fdDetail is the kind-specific column: what a pidfd or nsfs fd refers to,
// an anonymous inode's name.
func fdDetail(f fdJSON) string {
	switch {
	case f.Pidfd != nil:
		return fmt.Sprintf("pid %d nspid %s", f.Pidfd.Pid, joinInts(f.Pidfd.NSpid, " "))
	case f.Namespace != nil && f.Namespace.Error != "":
		return "namespace: " + f.Namespace.Error
	case f.Namespace != nil:
		return fmt.Sprintf("%s:[%d]%s", f.Namespace.Type, f.Namespace.Inode, idSuffix(f.Namespace.ID))
	case f.AnonName != "":
		return f.AnonName
	}
	return ""
}

func joinInts(v []int, sep string) string { return render.JoinInts(v, sep) }
