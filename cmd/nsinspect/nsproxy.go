package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/nsgroup"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "nsproxy",
		Short: "Group every task by its struct nsproxy and its set of nsproxy namespaces",
	}, newNSProxyCmd)
}

func newNSProxyCmd() *cobra.Command {
	var (
		asJSON bool
		source string
		task   string
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
` + inspect.NSProxyNote + `.

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

-p TASK cuts the view to TASK's own nsproxy and the tasks that share it:
from /proc its set, from BPF its struct nsproxy instance; "task" in
--json names it. TASK is a PID, "self", PID:TID or a container
(docker:NAME, ...), as everywhere. A task that does not exist exits 2;
one whose namespaces may not be read exits 4.

` + exitCodesHelp,
		Example: `  nsinspect nsproxy
  nsinspect nsproxy -p docker:web
  nsinspect nsproxy --source proc
  nsinspect nsproxy --json | jq '.nsproxies[] | select(.same_set_as != []) | .id'`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			if task != "" {
				if _, err := inspect.ParseTarget(task); err != nil {
					return err
				}
			}
			m, err := discoverFrom(source, discover.Options{Tasks: true, Objects: true}, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			out, err := inspect.NSProxyView(m, task)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			return render.NSProxy(cmd.OutOrStdout(), out)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the groups as JSON")
	c.Flags().StringVarP(&task, "task", "p", "", "only the nsproxy of `TASK` ("+inspect.TargetForms()+") and the tasks that share it")
	addSourceFlag(c, &source)
	return c
}
