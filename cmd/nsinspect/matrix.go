package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/clone"
	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/render"
)

func init() {
	register(&cobra.Command{
		Use:   "matrix",
		Short: "Run many clone experiments in one lab and print the truth table",
	}, newMatrixCmd)
}

func newMatrixCmd() *cobra.Command {
	var asJSON, all, probes, host bool
	c := &cobra.Command{
		Long: `Run a set of clone experiments in one lab process and print the truth table:
for each flag set and each resource, what clone(2) expects against what the
kernel showed. By default every single flag and every pair of flags (the
kernel refuses the invalid ones; they are listed with errno and rule). --all
runs every combination of the CLONE_NEW* and sharing flags (16,383 calls).

Cells: S shared, . separate, ? undecided; a '!' marks a disagreement.
Exit 1 on any disagreement.`,
		Example: `  nsinspect matrix
  nsinspect matrix --probes --json > truth.json
  nsinspect matrix --all`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			sets := flags.DefaultMatrix()
			if all {
				sets = flags.AllMatrix()
			}
			// The table shows verdicts only: without probes, each
			// experiment reads the identities (namespaces, kcmp, fds) and
			// not the views (mounts, links, IPC objects, hostname) that
			// only a single clone report prints. The probes need them.
			reps, err := clone.RunMatrix(clone.Request{Probes: probes, Identity: !probes, Host: host}, sets)
			if err != nil {
				if errors.Is(err, clone.ErrNoLab) {
					return privilegeErrorf("%v", err)
				}
				return err
			}
			out := inspect.MatrixOf(reps)
			if asJSON {
				if err := writeJSON(c.OutOrStdout(), out); err != nil {
					return err
				}
			} else if err := render.Matrix(c.OutOrStdout(), reps); err != nil {
				return err
			}
			return out.Outcome()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the table as JSON")
	c.Flags().BoolVar(&all, "all", false, "every combination of CLONE_NEW* and sharing flags")
	c.Flags().BoolVar(&probes, "probes", false, "run the witness probes in every experiment")
	c.Flags().BoolVar(&host, "host", false, "run from nsinspect's own namespaces instead of a lab")
	return c
}
