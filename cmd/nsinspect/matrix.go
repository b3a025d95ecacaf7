package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/clone"
	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/schema"
	"github.com/nsinspect/nsinspect/verdict"
)

func init() {
	register(&cobra.Command{
		Use:   "matrix",
		Short: "Run many clone experiments in one lab and print the truth table",
	}, newMatrixCmd)
}

// matrixJSON is `matrix --json`: every experiment, and how many
// verdicts disagree with clone(2).
type matrixJSON struct {
	SchemaVersion schema.Version `json:"schema_version"`
	Experiments   []matrixRow    `json:"experiments"`
	Disagreements int            `json:"disagreements"`
}

// matrixRow is one experiment of the truth table, as --json prints it.
type matrixRow struct {
	Flags         []string     `json:"flags"`
	Value         uint64       `json:"value"`
	Syscall       string       `json:"syscall"`
	Errno         *string      `json:"errno"`
	Explanation   []string     `json:"explanation,omitempty"`
	Resources     []matrixCell `json:"resources,omitempty"` // compare's resources, in its order
	Disagreements []string     `json:"disagreements"`
}

// matrixCell is one resource of one experiment in --json.
type matrixCell struct {
	Name     string `json:"name"`
	Expected bool   `json:"expected"`
	Shared   *bool  `json:"shared"`
	Probe    *bool  `json:"probe,omitempty"`
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
			rows := make([]matrixRow, len(reps))
			bad := 0
			for i, r := range reps {
				rows[i] = toRow(r)
				bad += len(r.Disagreements)
			}
			if asJSON {
				if err := writeJSON(c.OutOrStdout(), matrixJSON{Experiments: rows, Disagreements: bad}); err != nil {
					return err
				}
			} else {
				renderMatrix(c.OutOrStdout(), reps)
			}
			if bad > 0 {
				return inspect.Assertionf("%d verdict(s) disagree with clone(2)", bad)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the table as JSON")
	c.Flags().BoolVar(&all, "all", false, "every combination of CLONE_NEW* and sharing flags")
	c.Flags().BoolVar(&probes, "probes", false, "run the witness probes in every experiment")
	c.Flags().BoolVar(&host, "host", false, "run from nsinspect's own namespaces instead of a lab")
	return c
}

func toRow(r *report.Clone) matrixRow {
	row := matrixRow{Flags: r.Flags, Value: r.Value, Syscall: r.Syscall, Errno: r.Errno, Explanation: r.Explanation, Disagreements: r.Disagreements}
	if r.Errno == nil {
		row.Resources = []matrixCell{}
		for _, res := range r.Resources {
			row.Resources = append(row.Resources, matrixCell{Name: res.Name, Expected: res.Expected, Shared: res.Shared, Probe: res.Probe})
		}
	}
	return row
}

// matrixColumns abbreviates the resources for the table header.
var matrixColumns = []struct{ name, head string }{
	{"cgroup", "cg"}, {"ipc", "ipc"}, {"mnt", "mnt"}, {"net", "net"}, {"pid", "pid"}, {"pid_for_children", "pfc"},
	{"time", "tim"}, {"time_for_children", "tfc"}, {"user", "usr"}, {"uts", "uts"},
	{"files", "fil"}, {"fs", "fs"}, {"vm", "vm"}, {"sighand", "sig"}, {"io", "io"}, {"sysvsem", "sem"},
}

func renderMatrix(w io.Writer, reps []*report.Clone) {
	t := newTable(w)
	head := []string{"FLAGS"}
	for _, c := range matrixColumns {
		head = append(head, c.head)
	}
	fmt.Fprintln(t, strings.Join(head, "\t")+"\t")
	var refused []*report.Clone
	bad := 0
	for _, r := range reps {
		cells := []string{strings.Join(shortFlags(r.Flags), "|")}
		if r.Errno != nil {
			refused = append(refused, r)
			continue
		}
		byName := map[string]report.Resource{}
		for _, res := range r.Resources {
			byName[res.Name] = res
		}
		for _, c := range matrixColumns {
			res := byName[c.name]
			cell := verdict.Of(res.Shared).Symbol()
			if !res.Agree {
				cell += "!"
				bad++
			}
			cells = append(cells, cell)
		}
		fmt.Fprintln(t, strings.Join(cells, "\t")+"\t")
	}
	t.Flush()
	if len(refused) > 0 {
		fmt.Fprintln(w, "\nRefused by the kernel:")
		for _, r := range refused {
			why := "no clone(2) rule known for it"
			if len(r.Explanation) > 0 {
				why = strings.Join(r.Explanation, "; ")
			}
			fmt.Fprintf(w, "  %-28s %-7s %s\n", strings.Join(shortFlags(r.Flags), "|"), *r.Errno, why)
		}
	}
	fmt.Fprintf(w, "\n%d experiments: %d made, %d refused by the kernel, %d disagreeing verdicts (S shared, . separate, ? undecided, ! disagrees with clone(2))\n",
		len(reps), len(reps)-len(refused), len(refused), bad)
}

func shortFlags(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(strings.TrimPrefix(n, "CLONE_"))
	}
	return out
}
