package main

import (
	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "graph",
		Short: "Draw processes and their namespaces as Graphviz DOT",
	}, newGraphCmd)
}

func newGraphCmd() *cobra.Command {
	var (
		pids   []string
		svg    bool
		source string
	)
	c := &cobra.Command{
		Long: `graph prints a Graphviz DOT graph of processes, of threads whose namespaces
differ from their leader's, and of the namespaces they are in: one node per
namespace (by NS_GET_ID), an edge from each task to each of its namespaces
labelled with the /proc/PID/ns link (pid_for_children and time_for_children
only where they differ from pid and time), "parent" edges between pid and
user namespaces (NS_GET_PARENT) and "owner" edges to the user namespace
that owns each namespace (NS_GET_USERNS). Ancestors no task is in are
drawn too, marked so.

-p TASK restricts the picture to that process and its descendants, or to
one thread (PID:TID); TASK is "self", PID, PID:TID or a container
(docker:NAME, podman:[USER/]NAME, runc:[USER/]ID, containerd:[NAMESPACE/]ID), as for ls -p. Give
-p more than once, or a comma-separated list, for a set of trees. A task
that does not exist exits 2; one whose namespaces may not be read (another
user's, without CAP_SYS_PTRACE) exits 4.

--svg renders through Graphviz's dot program (apt-get install graphviz).`,
		Example: `  nsinspect graph | dot -Tpng -o ns.png
  nsinspect graph -p 4242 --svg > tree.svg
  nsinspect graph -p 1200,1300`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			targets, err := inspect.ParseTargets(pids)
			if err != nil {
				return err
			}
			if svg {
				if err := render.CheckSVG(); err != nil {
					return err
				}
			}
			m, err := discoverFrom(source, discover.Options{Tasks: true}, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			g, err := inspect.GraphOf(m, targets)
			if err != nil {
				return err
			}
			return render.Graph(cmd.OutOrStdout(), g, svg)
		},
	}
	f := c.Flags()
	f.StringSliceVarP(&pids, "pid", "p", nil, "draw only `TASK` ("+inspect.TargetForms()+") and its descendants (repeatable, or comma-separated)")
	f.BoolVar(&svg, "svg", false, "render SVG with Graphviz's dot instead of printing DOT")
	addSourceFlag(c, &source)
	return c
}
