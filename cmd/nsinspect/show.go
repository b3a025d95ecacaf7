package main

import (
	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "show TARGET",
		Short: "Show one task as far as /proc exposes its task_struct",
	}, newShowCmd)
}

func newShowCmd() *cobra.Command {
	var asJSON, kernel bool
	c := &cobra.Command{
		Long: `show prints one task (a PID, "self", PID:TID or a container's init:
docker:NAME, podman:[USER/]NAME, runc:[USER/]ID, containerd:[NAMESPACE/]ID): pid, tgid, ppid, state, comm,
threads, the NSpid chain, uid/gid and their maps, cgroups (and the container they name: engine, id,
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
			read := inspect.ReadShow
			if kernel {
				read = inspect.ReadShowKernel
			}
			return viewTask(cmd.OutOrStdout(), args[0], asJSON, read, render.Show)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON object")
	c.Flags().BoolVar(&kernel, "kernel", false, "add the task's kernel objects (nsproxy, files, mm, ...) and who shares them, read with BPF")
	return c
}
