package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/nsgraph"
	"github.com/nsinspect/nsinspect/procinfo"
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

-p PID restricts the picture to that process and its descendants; give -p
more than once, or a comma-separated list, for a set of trees.

--svg renders through Graphviz's dot program (apt-get install graphviz).`,
		Example: `  nsinspect graph | dot -Tpng -o ns.png
  nsinspect graph -p 4242 --svg > tree.svg
  nsinspect graph -p 1200,1300`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			roots, err := parsePIDList(pids)
			if err != nil {
				return err
			}
			if svg {
				if _, err := exec.LookPath("dot"); err != nil {
					return errNoDot
				}
			}
			m, err := discoverFrom(source, discover.Options{Tasks: true}, cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			tasks := m.Tasks
			if len(roots) > 0 {
				var missing []int
				tasks, missing = nsgraph.Subtree(tasks, roots)
				if len(missing) > 0 {
					return usageErrorf("-p: no process with PID %s: it does not exist or has exited (see ps -e)", joinInts(missing, ", "))
				}
			}
			g := nsgraph.Processes(tasks)
			if err := writeGraph(cmd.OutOrStdout(), g, svg); err != nil {
				return err
			}
			if len(roots) > 0 {
				return refusedTasks("graph -p", tasks)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringSliceVarP(&pids, "pid", "p", nil, "draw only process `PID` and its descendants (repeatable, or comma-separated)")
	f.BoolVar(&svg, "svg", false, "render SVG with Graphviz's dot instead of printing DOT")
	addSourceFlag(c, &source)
	return c
}

var errNoDot = inspect.Wrap(inspect.ErrUnsupported, nil, "--svg needs Graphviz's dot program, which is not installed: apt-get install graphviz (or leave out --svg and render the DOT elsewhere)")

// refusedTasks is exit 4 for a view of chosen tasks some of whose
// namespaces the kernel refused to show: they are drawn without them.
func refusedTasks(view string, tasks []*model.Task) error {
	var pids []int
	for _, t := range tasks {
		if t.Refused && !t.IsThread() {
			pids = append(pids, t.PID)
		}
	}
	if len(pids) == 0 {
		return nil
	}
	return privilegeErrorf("%s: cannot read the namespaces of %d process(es) (%s), drawn without them: %s", view, len(pids),
		joinInts(pids[:min(len(pids), 5)], ", "), procinfo.DeniedHint("reading them"))
}

func parsePIDList(args []string) ([]int, error) {
	var out []int
	for _, a := range args {
		// Resolved as every target is, so -p takes what ls -p takes
		// (self, PID:TID, a container); the tree is the process's.
		p, err := openTask(strings.TrimSpace(a))
		if err != nil {
			return nil, err
		}
		out = append(out, p.PID)
		p.Close()
	}
	return out, nil
}

// writeGraph prints g as DOT, or as SVG rendered by dot(1).
func writeGraph(w io.Writer, g *nsgraph.Graph, svg bool) error {
	if !svg {
		return g.WriteDOT(w)
	}
	path, err := exec.LookPath("dot")
	if err != nil {
		return errNoDot
	}
	var in, errb bytes.Buffer
	if err := g.WriteDOT(&in); err != nil {
		return err
	}
	render := exec.Command(path, "-Tsvg")
	render.Stdin, render.Stdout, render.Stderr = &in, w, &errb
	if err := render.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("dot -Tsvg failed (exit %d): %s", ee.ExitCode(), strings.TrimSpace(errb.String()))
		}
		return fmt.Errorf("running dot -Tsvg: %w", err)
	}
	return nil
}
