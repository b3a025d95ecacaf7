package render

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/verdict"
)

// Clone prints a report so that it teaches: for each resource what
// clone(2) says, what the kernel's identity shows and what the probe saw,
// each with its evidence.
func Clone(out io.Writer, r *report.Clone) error {
	w := &errWriter{w: out}
	renderClone(w, r)
	return w.err
}

func renderClone(w io.Writer, r *report.Clone) {
	call := fmt.Sprintf("%s(%s = %s)", r.Syscall, flags.Set(r.Value), r.ValueHex)
	if r.Errno != nil {
		fmt.Fprintf(w, "%s was refused by the kernel: %s (%s)\n", call, *r.Errno, r.Error)
		if len(r.Explanation) == 0 {
			fmt.Fprintf(w, "  clone(2) lists no rule for this combination and errno; the kernel is the judge.\n")
		}
		for _, e := range r.Explanation {
			fmt.Fprintf(w, "  why: %s\n", e)
		}
		return
	}
	fmt.Fprintf(w, "%s %s\n", call, labWhere(r))
	fmt.Fprintf(w, "  The parent is a process nsinspect made; the child was made by that one %s call\n  from it, and neither has exec'd: both are parked while they are read.\n", r.Syscall)
	fmt.Fprintf(w, "  parent pid %d  ->  child pid %d", r.Parent.PID, r.Child.TID)
	renderRelation(w, r)
	if r.UserMap != "" {
		fmt.Fprintf(w, "  note: %s\n\n", r.UserMap)
	}
	if r.Cgroup != "" {
		fmt.Fprintf(w, "  CLONE_INTO_CGROUP: clone3 was given an fd on %s; /proc/PID/cgroup (0::, in nsinspect's cgroup namespace, which the lab keeps for CLONE_INTO_CGROUP) says child %s, parent %s\n\n",
			r.Cgroup, cgroupV2Path(r.Child), cgroupV2Path(r.Parent))
	}

	t := NewTable(w)
	fmt.Fprintln(t, "RESOURCE\tCLONE(2) SAYS\tKERNEL IDENTITY\tPROBE\t")
	for _, res := range r.Resources {
		fmt.Fprintf(t, "%s\t%s (%s)\t%s\t%s\t%s\n", res.Name, word(&res.Expected), res.Why, word(res.Shared), probeWord(res.Probe), disagreeMark(res.Agree, "  "))
	}
	t.Flush()

	fmt.Fprintf(w, "\nEvidence (namespaces: %s; kcmp(2): 0 = one kernel object, 1 or 2 = two):\n", nsEvidenceKey())
	for _, res := range r.Resources {
		ev := res.Evidence.String()
		if res.Note != "" {
			ev += " — " + res.Note
		}
		fmt.Fprintf(w, "  %-17s %s\n", res.Name, ev)
	}
	if len(r.Probes) > 0 {
		fmt.Fprintln(w, "\nProbes (the child changes a resource, the parent's view is read again):")
		for _, p := range r.Probes {
			switch {
			case p.Error != "" && p.Shared == nil:
				fmt.Fprintf(w, "  %-24s not decided: %s\n", p.Name, p.Error)
			default:
				fmt.Fprintf(w, "  %-24s %s\n  %-24s -> %s => %s\n", p.Name, p.Action, "", p.Observed, word(p.Shared))
			}
		}
	}
	renderFDs(w, r)
	if r.AfterExec != nil {
		renderExec(w, r.AfterExec)
	}
	if len(r.Disagreements) == 0 {
		fmt.Fprintf(w, "\nAll %d verdicts agree with clone(2): the kernel's identities and every probe that ran.\n", len(r.Resources))
	} else {
		fmt.Fprintln(w, "\nDISAGREE:")
		for _, d := range r.Disagreements {
			fmt.Fprintf(w, "  %s\n", d)
		}
	}
}

// labWhere says where the experiment ran: which namespaces the lab made
// and which of nsinspect's it kept.
func labWhere(r *report.Clone) string {
	if r.Mode == "host" {
		return "from nsinspect's own namespaces (--host)"
	}
	where := "in a disposable lab"
	if r.Mode == "lab-userns" {
		where += " inside a new user namespace"
	}
	if len(r.LabNamespaces) == 0 {
		return where
	}
	var kept []string
	for _, name := range namespaces.TypeNames() {
		if !slices.Contains(r.LabNamespaces, name) {
			kept = append(kept, name)
		}
	}
	switch len(kept) {
	case 0:
		return where + " (new namespaces of every type)"
	case 1:
		return fmt.Sprintf("%s (new %s namespaces; the %s namespace is nsinspect's)", where, andList(r.LabNamespaces), kept[0])
	}
	return fmt.Sprintf("%s (new %s namespaces; the %s namespaces are nsinspect's)", where, andList(r.LabNamespaces), andList(kept))
}

// andList joins "a, b and c".
func andList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}

func renderRelation(w io.Writer, r *report.Clone) {
	rel := r.Relation
	var parts []string
	if rel.SameThreadGroup {
		parts = append(parts, fmt.Sprintf("a thread of the parent (/proc/%d/task/%d, Tgid %d)", r.Parent.PID, r.Child.TID, rel.ChildTgid))
	} else if rel.ChildPPid != r.Parent.PID {
		parts = append(parts, fmt.Sprintf("its parent is pid %d, the parent's parent (CLONE_PARENT)", rel.ChildPPid))
	}
	if n := len(rel.ChildNSpid); n > 1 {
		inner := rel.ChildNSpid[n-1]
		if r.NewPidNS() {
			parts = append(parts, fmt.Sprintf("NSpid %s: pid %d inside its own pid namespace (CLONE_NEWPID)", ints(rel.ChildNSpid), inner))
		} else {
			parts = append(parts, fmt.Sprintf("NSpid %s: pid %d in %s pid namespace, which the parent shares", ints(rel.ChildNSpid), inner, pidNSOwner(r.Mode)))
		}
	}
	if rel.VforkSuspended {
		parts = append(parts, "the parent is suspended inside clone until the child exits or execs (CLONE_VFORK)")
	}
	if rel.ParentPidfd != nil {
		parts = append(parts, fmt.Sprintf("the parent holds pidfd %d on %s (CLONE_PIDFD)", *rel.ParentPidfd, rel.PidfdTarget))
	}
	if len(parts) == 0 {
		fmt.Fprintln(w)
	} else {
		fmt.Fprintf(w, "; %s\n", strings.Join(parts, "; "))
	}
	fmt.Fprintln(w)
}

// pidNSOwner names whose pid namespace a child without CLONE_NEWPID is
// in: the lab's, or with --host nsinspect's.
func pidNSOwner(mode string) string {
	if mode == "host" {
		return "nsinspect's"
	}
	return "the lab's"
}

func renderFDs(w io.Writer, r *report.Clone) {
	if len(r.FDs) == 0 {
		return
	}
	fmt.Fprintln(w, "\nFds open in both (KCMP_FILE: the same open file description?); 3-6 are the pipes nsinspect drives the two with:")
	for _, f := range r.FDs {
		fmt.Fprintf(w, "  fd %-3d %-8s parent %s, child %s\n", f.FD, word(f.Shared), f.A, f.B)
	}
}

func renderExec(w io.Writer, v *report.ExecView) {
	fmt.Fprintf(w, "\nAfter the child execs %s:\n", v.Program)
	if v.Error != "" {
		fmt.Fprintf(w, "  not shown: %s\n", v.Error)
		return
	}
	for _, res := range v.Resources {
		mark := ""
		if !res.Agree {
			mark = "  <-- unexpected"
		}
		fmt.Fprintf(w, "  %-8s %-9s %s%s\n", res.Name, word(res.Shared), res.Evidence.String(), mark)
	}
}

func word(b *bool) string { return verdict.Of(b).String() }

// probeWord is the PROBE column: the probe's verdict, or "-" when no probe
// witnessed the resource.
func probeWord(b *bool) string {
	if b == nil {
		return "-"
	}
	return word(b)
}

func ints(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " ")
}

// nsEvidenceKey says how the namespace evidence identifies a namespace on
// this kernel.
func nsEvidenceKey() string {
	if features.Has(features.NSGetID) {
		return "NS_GET_ID of /proc/PID/ns/<link>, inode in brackets"
	}
	return "inode of /proc/PID/ns/<link> (this kernel has no NS_GET_ID), both held open while compared"
}

// cgroupV2Path is the side's cgroup v2 path (the "0::" line), or "?".
func cgroupV2Path(s *report.Side) string {
	if s != nil {
		if p, ok := s.CgroupV2(); ok {
			return p
		}
	}
	return "?"
}

// Unshare prints what unshare(2) changed: each link before and after,
// the caller's next child, and for a thread what it still shares with
// its leader.
func Unshare(out io.Writer, r *report.Unshare) error {
	w := &errWriter{w: out}
	renderUnshare(w, r)
	return w.err
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
	t := NewTable(w)
	fmt.Fprintln(t, "LINK\tBEFORE\tAFTER\tCHANGED\tEXPECTED\t")
	for _, l := range r.Links {
		fmt.Fprintf(t, "%s\t%d%s\t%d%s\t%s\t%s\t%s\n", l.Link, l.Before.Ino, IDSuffix(l.Before.ID), l.After.Ino, IDSuffix(l.After.ID), boolWord(l.Changed), boolWord(l.Expected), disagreeMark(l.Agree, ""))
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

// disagreeMark is a table row's last cell: after pad, a mark for a verdict
// that disagrees with the manual's, nothing for one that agrees.
func disagreeMark(agree bool, pad string) string {
	if agree {
		return ""
	}
	return pad + "<-- DISAGREE"
}

func boolWord(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// paragraphs prints each of items with each, a blank line between two,
// to an errWriter on out that it returns, for the caller to write more
// or to take the first error from.
func paragraphs[T any](out io.Writer, items []T, each func(io.Writer, T)) *errWriter {
	w := &errWriter{w: out}
	for i, it := range items {
		if i > 0 {
			fmt.Fprintln(w)
		}
		each(w, it)
	}
	return w
}

// errWriter keeps the first error of a writer that many Fprintf calls
// write to, and drops what comes after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
