package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/clone"
	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/inspect"
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
			set, err := flags.Parse(args[0])
			if err != nil {
				return usageErrorf("%v", err)
			}
			if extra := uint64(set) &^ flags.Unshareable; extra != 0 {
				return usageErrorf("unshare(2) does not take %s: it takes CLONE_NEW*, CLONE_FILES, CLONE_FS and CLONE_SYSVSEM (see 'nsinspect clone' for the rest)", flags.Set(extra))
			}
			rep, err := clone.RunUnshare(clone.Request{Flags: set, Host: host, Thread: thread})
			if err != nil {
				if errors.Is(err, clone.ErrNoLab) {
					return privilegeErrorf("%v", err)
				}
				return err
			}
			if asJSON {
				if err := writeJSON(c.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				renderUnshare(c.OutOrStdout(), rep)
			}
			switch {
			case rep.Errno != nil:
				return kernelRefusal(rep.Syscall, rep.Flags, *rep.Errno, rep.Explanation)
			case len(rep.Disagreements) > 0:
				return inspect.Assertionf("%d result(s) disagree with unshare(2)", len(rep.Disagreements))
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	c.Flags().BoolVar(&host, "host", false, "run from nsinspect's own namespaces instead of a lab")
	c.Flags().BoolVar(&thread, "thread", false, "unshare on one thread of a two-thread process")
	return c
}

func renderUnshare(w io.Writer, r *report.Unshare) {
	who := "a fresh process"
	if r.Thread {
		who = "the second thread of a two-thread process"
	}
	if r.Errno != nil {
		fmt.Fprintf(w, "unshare(%s = %s) in %s was refused by the kernel: %s (%s)\n", flags.Set(r.Value), r.ValueHex, who, *r.Errno, r.Error)
		for _, e := range r.Explanation {
			fmt.Fprintf(w, "  why: %s\n", e)
		}
		return
	}
	fmt.Fprintf(w, "unshare(%s = %s) in %s (pid %d, tid %d)\n\n", flags.Set(r.Value), r.ValueHex, who, r.Caller.PID, r.Caller.TID)
	t := newTable(w)
	fmt.Fprintln(t, "LINK\tBEFORE\tAFTER\tCHANGED\tEXPECTED\t")
	for _, l := range r.Links {
		mark := ""
		if !l.Agree {
			mark = "<-- DISAGREE"
		}
		fmt.Fprintf(t, "%s\t%d%s\t%d%s\t%s\t%s\t%s\n", l.Link, l.Before.Ino, idSuffix(l.Before.ID), l.After.Ino, idSuffix(l.After.ID), boolWord(l.Changed), boolWord(l.Expected), mark)
	}
	t.Flush()
	for _, l := range r.Links {
		if l.AtCall != "" {
			fmt.Fprintf(w, "  %s %s\n", l.Link, l.AtCall)
		}
	}
	if r.Child != nil {
		fmt.Fprintf(w, "\nThe caller's next child (pid %d, NSpid %s):\n", r.Child.PID, ints(r.Child.NSpid))
		for _, l := range r.Links {
			if l.NextChild != nil {
				fmt.Fprintf(w, "  its %s namespace is the caller's %s after the call: %s\n", l.Link[:len(l.Link)-len("_for_children")], l.Link, boolWord(*l.NextChild))
			}
		}
	}
	if r.Thread {
		fmt.Fprintf(w, "\nLeader (tid %d) against the thread (tid %d) after the call, by kcmp(2):\n", r.Leader.TID, r.Caller.TID)
		for _, k := range r.Kcmp {
			fmt.Fprintf(w, "  %-8s %-9s (expected %s) %s\n", k.Name, word(k.Shared), word(&k.Expected), k.Evidence.String())
		}
		fmt.Fprintf(w, "  /proc/%d/ns shows the leader; /proc/%d/task/%d/ns shows the thread.\n", r.Leader.PID, r.Caller.PID, r.Caller.TID)
	}
	for _, d := range r.Disagreements {
		fmt.Fprintf(w, "DISAGREE: %s\n", d)
	}
}

func boolWord(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
