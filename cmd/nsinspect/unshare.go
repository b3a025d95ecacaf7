package main

import (
	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/clone"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "unshare FLAGS",
		Short: "Call unshare(2) in a fresh process (or one thread) and show what changed",
	}, newUnshareCmd)
}

func newUnshareCmd() *cobra.Command {
	var asJSON, host, thread bool
	c := &cobra.Command{
		Long: `Call unshare(2) with FLAGS in a fresh process of the lab and show every
/proc/PID/ns link before and after. CLONE_NEWPID and CLONE_NEWTIME change
only pid_for_children and time_for_children: the caller stays where it is, and
its next child is the first task in the new namespace; nsinspect makes that
child and shows it.

--thread calls unshare(2) on the second thread of a two-thread process that
shares files, fs and SysV undo list with its leader, and shows the per-task
divergence under /proc/PID/task/TID: what the thread left and the leader kept.

A call the kernel refuses exits 3 with the errno and the rule it broke.`,
		Example: `  nsinspect unshare newpid,newtime     # only *_for_children change
  nsinspect unshare 'CLONE_NEWNET|CLONE_FILES' --thread
  nsinspect unshare newuser --thread      # refused: EINVAL`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			rep, err := inspect.Unshare(args[0], clone.Request{Host: host, Thread: thread})
			if err != nil {
				return err
			}
			if asJSON {
				if err := writeJSON(c.OutOrStdout(), rep); err != nil {
					return err
				}
			} else if err := render.Unshare(c.OutOrStdout(), rep); err != nil {
				return err
			}
			return inspect.UnshareOutcome(rep)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	c.Flags().BoolVar(&host, "host", false, "run from nsinspect's own namespaces instead of a lab")
	c.Flags().BoolVar(&thread, "thread", false, "unshare on one thread of a two-thread process")
	return c
}
