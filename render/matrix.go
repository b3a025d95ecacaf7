package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/verdict"
)

// matrixColumns abbreviates the resources for the table header.
var matrixColumns = []struct{ name, head string }{
	{"cgroup", "cg"}, {"ipc", "ipc"}, {"mnt", "mnt"}, {"net", "net"}, {"pid", "pid"}, {"pid_for_children", "pfc"},
	{"time", "tim"}, {"time_for_children", "tfc"}, {"user", "usr"}, {"uts", "uts"},
	{"files", "fil"}, {"fs", "fs"}, {"vm", "vm"}, {"sighand", "sig"}, {"io", "io"}, {"sysvsem", "sem"},
}

// Matrix prints the truth table of a run's reports: one row per
// experiment, a column per resource, then the calls the kernel refused.
func Matrix(out io.Writer, reps []*report.Clone) error {
	w := &errWriter{w: out}
	renderMatrix(w, reps)
	return w.err
}

func renderMatrix(w io.Writer, reps []*report.Clone) {
	t := NewTable(w)
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
