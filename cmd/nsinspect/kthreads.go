package main

import (
	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "kthreads",
		Short: "List the kernel threads: kthreadd (pid 2) and its PF_KTHREAD children",
	}, newKthreadsCmd)
}

func newKthreadsCmd() *cobra.Command {
	var asJSON bool
	var source string
	c := &cobra.Command{
		Long: `kthreads lists kthreadd (pid 2) and the kernel threads it forked: the tasks
whose stat flags carry PF_KTHREAD, with pid, ppid, comm, state and CPU
affinity (Cpus_allowed_list of /proc/PID/status). Tasks that exit during the
scan are left out; so is nothing else: without the privilege to read their
namespaces, kernel threads are still listed (their stat and status are
world-readable). --source bpf finds them in the kernel's task list (see
ls --help); the affinity is read from /proc either way.

` + exitCodesHelp,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := discoverFrom(source, discover.Options{Tasks: true}, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			out := inspect.KthreadsOf(m)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			return render.Kthreads(cmd.OutOrStdout(), out)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print a JSON object {"schema_version", "source", "kthreads": [{"pid", "ppid", "comm", "state", "cpus"}]}`)
	addSourceFlag(c, &source)
	return c
}
