package main

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/procinfo"
)

func init() { register(newKthreadsCmd) }

// kthreaddPID is the kernel thread that forks all others.
const kthreaddPID = 2

type kthreadJSON struct {
	PID   int    `json:"pid"`
	PPid  int    `json:"ppid"`
	Comm  string `json:"comm"`
	State string `json:"state"` // one letter, as in stat
	CPUs  string `json:"cpus"`  // Cpus_allowed_list: the affinity
}

func newKthreadsCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "kthreads",
		Short: "List the kernel threads: kthreadd (pid 2) and its PF_KTHREAD children",
		Long: `kthreads lists kthreadd (pid 2) and the kernel threads it forked: the tasks
whose stat flags carry PF_KTHREAD, with pid, ppid, comm, state and CPU
affinity (Cpus_allowed_list of /proc/PID/status). Tasks that exit during the
scan are left out.`,
		Args: usageArgs(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := scanKthreads()
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), list)
			}
			tw := newTable(cmd.OutOrStdout())
			fmt.Fprintln(tw, "PID\tPPID\tSTATE\tCPUS\tCOMM")
			for _, k := range list {
				fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s\n", k.PID, k.PPid, k.State, k.CPUs, k.Comm)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON array")
	return c
}

func scanKthreads() ([]kthreadJSON, error) {
	d, err := os.Open(procinfo.Root)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", procinfo.Root, err)
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", procinfo.Root, err)
	}
	list := []kthreadJSON{}
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		k, ok, err := readKthread(pid)
		if errors.Is(err, procinfo.ErrProcessGone) {
			continue // exited during the scan
		}
		if err != nil {
			return nil, err
		}
		if ok {
			list = append(list, k)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].PID < list[j].PID })
	return list, nil
}

// readKthread pins pid and reports it if it is kthreadd or one of its
// kernel threads.
func readKthread(pid int) (kthreadJSON, bool, error) {
	p, err := procinfo.Open(pid)
	if err != nil {
		return kthreadJSON{}, false, err
	}
	defer p.Close()
	st, err := p.Stat()
	if err != nil {
		return kthreadJSON{}, false, err
	}
	if !st.IsKthread() || (st.PID != kthreaddPID && st.PPID != kthreaddPID) {
		return kthreadJSON{}, false, nil
	}
	status, err := p.Status()
	if err != nil {
		return kthreadJSON{}, false, err
	}
	if err := p.Alive(); err != nil {
		return kthreadJSON{}, false, err
	}
	return kthreadJSON{PID: st.PID, PPid: st.PPID, Comm: st.Comm, State: string(st.State), CPUs: status.CpusAllowedList}, true, nil
}
