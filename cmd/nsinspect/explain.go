package main

import (
	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "explain NAME",
		Short: "Explain a clone flag or namespace type",
	}, newExplainCmd)
}

func newExplainCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Long: `explain says, for a clone(2) flag or a namespace type, what it isolates or
shares, since which kernel, which /proc files and which ioctls or calls show
it, the errnos it can make clone fail with (from the same table that
explains a refused 'nsinspect clone'), and the nsinspect command that
demonstrates it.

NAME is a flag (CLONE_NEWNET, newnet, files), a namespace type as lsns
names it (net, mnt, pid, ...), a /proc/PID/ns link (pid_for_children,
time_for_children), the exit signal (CSIGNAL, or a signal such as SIGCHLD),
or a flag nsinspect's experiments leave out (CLONE_SETTLS,
CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID, CLONE_CHILD_SETTID,
CLONE_PTRACE, CLONE_UNTRACED, CLONE_DETACHED), with why. An unknown NAME
exits 2 listing the known ones. Without NAME, every entry is printed.`,
		Example: `  nsinspect explain net
  nsinspect explain CLONE_FILES
  nsinspect explain pid_for_children
  nsinspect explain CLONE_SETTLS
  nsinspect explain --json`,
		Args: usageArgs(cobra.MaximumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := ""
			if len(args) > 0 {
				name = args[0]
			}
			out, err := inspect.Explain(name)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), out)
			}
			return render.Explanations(cmd.OutOrStdout(), out)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"schema_version", "explanations": [...]}: the entry, or every entry without NAME`)
	return c
}
