package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/schema"
)

func init() {
	register(&cobra.Command{
		Use:   "kthreads",
		Short: "List the kernel threads: kthreadd (pid 2) and its PF_KTHREAD children",
	}, newKthreadsCmd)
}

// kthreaddPID is the kernel thread that forks all others.
const kthreaddPID = 2

// kthreadsJSON is `kthreads --json`: the source that ran and the list.
type kthreadsJSON struct {
	SchemaVersion schema.Version `json:"schema_version"`
	Source        string         `json:"source"`
	Kthreads      []kthreadJSON  `json:"kthreads"`
}

type kthreadJSON struct {
	PID   int    `json:"pid"`
	PPid  int    `json:"ppid"`
	Comm  string `json:"comm"`
	State string `json:"state"` // one letter, as in stat
	CPUs  string `json:"cpus"`  // Cpus_allowed_list: the affinity
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
			return renderKthreads(cmd.OutOrStdout(), m.Source, kthreads(m), asJSON)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print a JSON object {"schema_version", "source", "kthreads": [{"pid", "ppid", "comm", "state", "cpus"}]}`)
	addSourceFlag(c, &source)
	return c
}

func renderKthreads(w io.Writer, source string, list []kthreadJSON, asJSON bool) error {
	if asJSON {
		return writeJSON(w, kthreadsJSON{Source: source, Kthreads: list})
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "PID\tPPID\tSTATE\tCPUS\tCOMM")
	for _, k := range list {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", k.PID, k.PPid, k.State, k.CPUs, k.Comm)
	}
	return tw.Flush()
}

// kthreads is the kthreads view of one discovery pass: kthreadd and the
// kernel threads it forked. The pass read each task through one pinned
// /proc directory, so a task's stat and status belong to that task.
func kthreads(m *model.Model) []kthreadJSON {
	list := []kthreadJSON{}
	for _, t := range m.Tasks {
		if t.Kernel && !t.IsThread() && (t.PID == kthreaddPID || t.PPID == kthreaddPID) {
			list = append(list, kthreadJSON{PID: t.PID, PPid: t.PPID, Comm: t.Comm, State: string(t.State), CPUs: t.Affinity})
		}
	}
	return list
}
