package render

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/policy"
	"github.com/nsinspect/nsinspect/posture"
)

// AuditReport prints each target's facts, a verdict per line with its
// evidence indented below, then the policy's outcome.
func AuditReport(out io.Writer, r inspect.AuditReport) error {
	w := paragraphs(out, r.Targets, auditTarget)
	if p := r.Policy; p != nil {
		fmt.Fprintf(w, "\npolicy %s: %d rules, %d checked against a target, %d violations\n", p.File, p.Rules, len(p.Results), len(p.Violations))
		for _, res := range p.Results {
			verdict := "holds"
			if res.Violations > 0 {
				verdict = fmt.Sprintf("VIOLATED (%d)", res.Violations)
			}
			fmt.Fprintf(w, "  %-30s %-50s %s\n", res.Rule, res.Target, verdict)
		}
		for _, u := range p.Undecided {
			fmt.Fprintf(w, "  %-30s %-50s UNDECIDED: %s\n", u.Rule, u.Target, u.Why)
		}
		for _, u := range p.Unmatched {
			fmt.Fprintf(w, "  %-30s matched no target\n", u)
		}
	}
	return w.err
}

func auditTarget(w io.Writer, a inspect.Audit) {
	fmt.Fprintf(w, "audit of %s\n", inspect.TargetLabel(a))
	if a.Reference.PID != 0 {
		fmt.Fprintf(w, "reference: pid %d (%s): %s\n", a.Reference.PID, a.Reference.Comm, a.Reference.Why)
	} else {
		fmt.Fprintf(w, "reference: none: %s\n", a.Reference.Why)
	}
	for _, n := range a.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	f := a.Facts
	fact := func(name, verdict string, ev []posture.Evidence, errText string) {
		if errText != "" {
			verdict = "unknown: " + errText
		}
		fmt.Fprintf(w, "\n%-17s %s\n", name, verdict)
		for _, e := range ev {
			fmt.Fprintf(w, "%17s   evidence: %s\n", "", evidenceText(e))
		}
	}
	// Namespaces: one line per link, the evidence beside it.
	fmt.Fprintf(w, "\n%-17s %s\n", "namespaces", namespaceSummary(f.Namespaces))
	for _, l := range namespaces.Links {
		ns, ok := f.Namespaces[l.Name]
		if !ok {
			continue
		}
		verdict := "separate"
		if ns.Shared {
			verdict = "SHARED"
		}
		if !ns.Proven {
			verdict += " (not proven)"
		}
		if ns.Err != "" {
			verdict = "unknown: " + ns.Err
		}
		line := fmt.Sprintf("  %-17s %-22s %s", l.Name, verdict, ns.Target)
		if ns.Reference != "" {
			line += "  reference " + ns.Reference
		}
		fmt.Fprintln(w, line)
		if ns.Why != "" && (ns.Shared || !ns.Proven) {
			fmt.Fprintf(w, "  %17s %s\n", "", ns.Why)
		}
	}
	c := f.Capabilities
	fact("capabilities", capSummary(c), c.Evidence, c.Err)
	nnp := "false: setuid and file capabilities still raise privilege on execve"
	if f.NoNewPrivs.Value {
		nnp = "true: execve cannot gain privilege"
	}
	fact("no_new_privs", nnp, f.NoNewPrivs.Evidence, f.NoNewPrivs.Err)
	sc := f.Seccomp.Mode
	if f.Seccomp.Mode == "filter" && f.Seccomp.Filters >= 0 {
		sc += fmt.Sprintf(" (%d %s)", f.Seccomp.Filters, plural(f.Seccomp.Filters, "filter", "filters"))
	}
	fact("seccomp", sc, f.Seccomp.Evidence, f.Seccomp.Err)
	lsm := "none: " + f.LSM.Reason
	if f.LSM.Label != nil {
		lsm = *f.LSM.Label
	}
	if f.LSM.AppArmor != nil {
		lsm += " (apparmor: " + *f.LSM.AppArmor + ")"
	}
	fact("lsm", lsm, f.LSM.Evidence, "")
	fact("uid_map", idMapSummary(f.UIDMap, "uid"), f.UIDMap.Evidence, f.UIDMap.Err)
	fact("gid_map", idMapSummary(f.GIDMap, "gid"), f.GIDMap.Evidence, f.GIDMap.Err)
	writePaths(w, "masked_paths", f.MaskedPaths, "nothing masked")
	writePaths(w, "readonly_paths", f.ReadonlyPaths, "nothing read-only")
	writeSensitive(w, f)
	d := f.Devices
	fact("devices", deviceSummary(d.Nodes), d.Evidence, d.Err)
	cg := f.Cgroup
	fact("cgroup", fmt.Sprintf("v%d %s: pids.max %s, memory.max %s", cg.Version, cg.Path, orNone(cg.PidsMax), orNone(cg.MemoryMax)), cg.Evidence, cg.Err)
	if len(a.Members) > 0 {
		fmt.Fprintf(w, "\n%d processes of the container are not in its init's namespaces:\n", len(a.Members))
		for _, m := range a.Members {
			var links []string
			for l, v := range m.Differs {
				links = append(links, l+" "+v.String())
			}
			slices.Sort(links)
			fmt.Fprintf(w, "  pid %d (%s): %s\n", m.PID, m.Comm, strings.Join(links, ", "))
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "none (the root cgroup, or no such controller)"
	}
	return s
}

func namespaceSummary(m map[string]posture.Namespace) string {
	var shared, separate, unknown []string
	for _, l := range namespaces.Links {
		ns, ok := m[l.Name]
		switch {
		case !ok || ns.Err != "" || !ns.Proven:
			unknown = append(unknown, l.Name)
		case ns.Shared:
			shared = append(shared, l.Name)
		default:
			separate = append(separate, l.Name)
		}
	}
	s := fmt.Sprintf("separate: %s; shared with the reference: %s", listOrNone(separate), listOrNone(shared))
	if len(unknown) > 0 {
		s += "; not proven: " + strings.Join(unknown, " ")
	}
	return s
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, " ")
}

func capSummary(c posture.Capabilities) string {
	eff := len(c.Effective)
	s := fmt.Sprintf("%d effective, %d bounding, %d ambient", eff, len(c.Bounding), len(c.Ambient))
	if slices.Contains(c.Effective, "CAP_SYS_ADMIN") {
		s += "; CAP_SYS_ADMIN is effective (mount, setns, BPF: close to root on the host)"
	}
	if eff > 0 && eff <= 20 {
		s += ": " + strings.Join(c.Effective, " ")
	}
	return s
}

func idMapSummary(m posture.IDMap, what string) string {
	var ranges []string
	for _, r := range m.Ranges {
		ranges = append(ranges, fmt.Sprintf("%d %d %d", r.Inside, r.Outside, r.Count))
	}
	s := strings.Join(ranges, ", ")
	switch {
	case m.Identity:
		s += fmt.Sprintf(": the host's own map (no user namespace of its own): %s 0 is the host's %s 0", what, what)
	case m.RootIsHostRoot:
		s += fmt.Sprintf(": %s 0 inside is %s 0 on the host", what, what)
	default:
		s += fmt.Sprintf(": %s 0 inside is not the host's %s 0", what, what)
	}
	return s
}

func writePaths(w io.Writer, name string, l posture.PathList, none string) {
	if l.Err != "" {
		fmt.Fprintf(w, "\n%-17s unknown: %s\n", name, l.Err)
		return
	}
	if len(l.Paths) == 0 {
		fmt.Fprintf(w, "\n%-17s %s\n", name, none)
		return
	}
	fmt.Fprintf(w, "\n%-17s %d paths\n", name, len(l.Paths))
	for _, p := range l.Paths {
		fmt.Fprintf(w, "  %-24s %s  (%s)\n", p.Path, p.How, evidenceText(p.Evidence))
	}
}

// evidenceText is one piece of evidence: "FILE:LINE: TEXT" or the call.
func evidenceText(e posture.Evidence) string {
	switch {
	case e.Call != "":
		return e.Call
	case e.Line > 0 && e.Text != "":
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Text)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d", e.File, e.Line)
	case e.Text != "":
		return fmt.Sprintf("%s: %s", e.File, e.Text)
	}
	return e.File
}

// writeSensitive lists the host paths mounted in. A target in the
// reference's own mount namespace sees every host mount: that is said
// once, with the kinds, instead of listing the host's mount table.
func writeSensitive(w io.Writer, f *posture.Facts) {
	sm := f.SensitiveMounts
	switch {
	case sm.Err != "":
		fmt.Fprintf(w, "\n%-17s unknown: %s\n", "sensitive_mounts", sm.Err)
		return
	case len(sm.Mounts) == 0:
		fmt.Fprintf(w, "\n%-17s none: no engine socket and no host /, /proc, /sys, /run or /dev is mounted in\n", "sensitive_mounts")
		return
	}
	if mnt := f.Namespaces["mnt"]; mnt.Shared && mnt.Proven {
		kinds := map[string]int{}
		for _, m := range sm.Mounts {
			kinds[m.Kind]++
		}
		var ks []string
		for k, n := range kinds {
			ks = append(ks, fmt.Sprintf("%s %d", k, n))
		}
		slices.Sort(ks)
		fmt.Fprintf(w, "\n%-17s %d: the target is in the reference's own mount namespace (mnt shared), so the host's whole mount table is its own: %s (each with its mountinfo line in --json)\n",
			"sensitive_mounts", len(sm.Mounts), strings.Join(ks, ", "))
		return
	}
	fmt.Fprintf(w, "\n%-17s %d host paths mounted in\n", "sensitive_mounts", len(sm.Mounts))
	if sm.Note != "" {
		fmt.Fprintf(w, "  %17s note: %s\n", "", sm.Note)
	}
	for _, m := range sm.Mounts {
		rw := "read-only"
		if m.ReadWrite {
			rw = "READ-WRITE"
		}
		fmt.Fprintf(w, "  %-17s %s from the host's %s, %s\n", m.Kind, m.Path, m.Source, rw)
		fmt.Fprintf(w, "  %17s evidence: %s\n", "", evidenceText(m.Evidence))
	}
}

// notableDevices are device nodes worth naming in the summary: each gives
// a container power a default one lacks.
var notableDevices = []string{"/dev/fuse", "/dev/kmsg", "/dev/mem", "/dev/kvm", "/dev/net/tun", "/dev/vhost-net", "/dev/userfaultfd", "/dev/loop-control"}

// deviceSummary is a line for the table: all nodes when there are few
// (a container's /dev), else the count, the block devices and the
// notable character devices (the host's /dev: the list is in --json).
func deviceSummary(nodes []posture.Device) string {
	name := func(n posture.Device) string { return fmt.Sprintf("%s (%s %d:%d)", n.Path, n.Type, n.Major, n.Minor) }
	if len(nodes) <= 16 {
		var all []string
		for _, n := range nodes {
			all = append(all, name(n))
		}
		return fmt.Sprintf("%d device nodes: %s", len(nodes), strings.Join(all, ", "))
	}
	var block, notable []string
	for _, n := range nodes {
		switch {
		case n.Type == "b":
			block = append(block, name(n))
		case slices.Contains(notableDevices, n.Path):
			notable = append(notable, name(n))
		}
	}
	return fmt.Sprintf("%d device nodes (all in --json); block devices: %s; notable: %s", len(nodes), listOrNone(block), listOrNone(notable))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// JUnitFile writes a policy's results as JUnit XML to path: one testcase
// per rule and target.
func JUnitFile(path string, results []policy.Result) error {
	f, err := os.Create(path)
	if err != nil {
		return inspect.BadInputf("--junit %s: %v", path, err)
	}
	if err := policy.WriteJUnit(f, "nsinspect audit", results); err != nil {
		f.Close()
		return fmt.Errorf("writing the JUnit report %s: %w", path, err)
	}
	return f.Close()
}
