package main

import (
	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/bpfiter"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "fds TARGET",
		Short: "List a process's open file descriptors with kind, flags, mount and inode",
	}, newFdsCmd)
}

func newFdsCmd() *cobra.Command {
	var asJSON, kernel bool
	c := &cobra.Command{
		Long: `fds lists the fd table of a process (a PID, "self" or a container's init:
docker:NAME, podman:[USER/]NAME, runc:[USER/]ID, containerd:[NAMESPACE/]ID), the userspace view of the kernel's
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
				return viewTask(cmd.OutOrStdout(), args[0], asJSON, inspect.ReadFDsKernel, render.FDsKernel)
			}
			return viewTask(cmd.OutOrStdout(), args[0], asJSON, inspect.ReadFDs, render.FDs)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON object {schema_version, pid, fds: [...]}")
	c.Flags().BoolVar(&kernel, "kernel", false, "walk the fd table in kernel memory with BPF, beside /proc's view")
	return c
}
