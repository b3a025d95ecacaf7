package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/sharing"
	"github.com/nsinspect/nsinspect/verdict"
)

func init() {
	register(&cobra.Command{
		Use:   "compare A B",
		Short: "Show what two tasks share: namespaces, fd table, fs, memory, signal handlers, io, sysvsem, fds",
	}, newCompareCmd)
}

func newCompareCmd() *cobra.Command {
	var (
		asJSON, kernel bool
		expect         []string
	)
	c := &cobra.Command{
		Long: `compare pins two tasks (PID, PID:TID or "self") and reports, with the kernel's
evidence, which of sixteen resources they share: the ten /proc/PID/ns links
(cgroup ipc mnt net pid pid_for_children time time_for_children user uts),
compared by NS_GET_ID, and six kcmp(2) resources (files fs vm sighand io
sysvsem); then, for each fd number open in both, whether it is the same open
file description (KCMP_FILE).

SHARED is yes, no, or ? (indeterminate, with the reason). io and sysvsem
compare pointers that are NULL until first use: two tasks that never used
them are "?" rather than a false "yes". Without root, kcmp and the ns links
of other users' tasks need CAP_SYS_PTRACE: those rows are "?" with why.

--expect NAME=shared|separate,... turns the report into an assertion for CI:
exit 0 when every expectation holds, else exit 1 with one line per
violation on stderr. An indeterminate result violates any expectation.

--kernel adds a third witness for the six kcmp resources: one BPF task
iterator pass reads both task_structs' pointers (files, fs, mm for vm,
sighand, io_context, sysvsem.undo_list) as ids numbered per run, and says
"bpf: same" or "bpf: different" beside kcmp's verdict ("both NULL" where
kcmp says "?"); a row where the two disagree (a task changed between the
reads) is marked "!". It needs root, kernel BTF and Linux 5.8+ (else exit
4); in --json it is the "kernel" object {"source", "note", "resources":
[{"name", "field", "a", "b", "same", "kcmp", "agrees_with_kcmp"}]}.
--expect still judges kcmp's verdicts only.

` + exitCodesHelp,
		Example: `  nsinspect compare self 1
  nsinspect compare --json 4242 4243
  nsinspect compare 4242 4242:4250 --expect files=shared,vm=shared
  nsinspect compare self 4242 --expect net=separate,user=shared
  nsinspect compare --kernel 4242 4242:4250`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(c *cobra.Command, args []string) error {
			return runCompare(c.OutOrStdout(), c.ErrOrStderr(), args[0], args[1], strings.Join(expect, ","), len(expect) > 0, asJSON, kernel)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON object with schema_version, a, b, resources and fds")
	c.Flags().BoolVar(&kernel, "kernel", false, "add BPF's reading of the task_struct pointers beside kcmp's verdicts")
	c.Flags().StringArrayVar(&expect, "expect", nil, "assert NAME=shared|separate,... (repeatable); names: "+strings.Join(sharing.ResourceNames(), " "))
	c.SetFlagErrorFunc(compareFlagError)
	return c
}

// negativeArg is compiled on compare's first flag error, not at every
// start of nsinspect.
var negativeArg = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^unknown shorthand flag: '[0-9]' in (-[0-9].*)$`)
})

// compareFlagError explains a negative PID, which pflag takes for a flag.
func compareFlagError(c *cobra.Command, err error) error {
	if m := negativeArg().FindStringSubmatch(err.Error()); m != nil {
		return usageErrorf("bad PID %q: must be greater than 0 (want a positive number, \"self\" or PID:TID)", m[1])
	}
	return usageErrorf("%v (see '%s --help')", err, c.CommandPath())
}

func runCompare(stdout, stderr io.Writer, argA, argB, expect string, haveExpect, asJSON, kernel bool) error {
	var exp []sharing.Expectation
	if haveExpect {
		var err error
		if exp, err = sharing.ParseExpect(expect); err != nil {
			return usageErrorf("--expect: %v", err)
		}
	}
	out, err := compareTasks(argA, argB, kernel)
	if err != nil {
		return err
	}
	r := out.Report
	if asJSON {
		err = writeJSON(stdout, out)
	} else if err = writeCompareTable(stdout, r); err == nil && out.Kernel != nil {
		err = writeKernelWitness(stdout, out.Kernel)
	}
	if err != nil {
		return err
	}
	if haveExpect {
		return expectOutcome(stderr, r.Check(exp))
	}
	return refusedRows(r)
}

// refusedRows is exit 4 for a comparison whose rows the kernel refused
// (printed as "?" with why): the report is not a clean answer.
func refusedRows(r *sharing.Report) error {
	var names []string
	for _, res := range r.Resources {
		if res.Refused {
			names = append(names, res.Name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	return privilegeErrorf("compare: %d of %d resources could not be compared (%s): %s", len(names), len(r.Resources),
		strings.Join(names, " "), procinfo.DeniedHint("reading the tasks' namespaces and kcmp(2)"))
}

// expectOutcome prints one line per unmet expectation and classifies the
// run: 1 when each was checked and does not hold; 4 when some could not
// be checked because the kernel refused the reads; 5 when some could not
// be decided otherwise, or when violations come with either.
func expectOutcome(stderr io.Writer, vs []sharing.Violation) error {
	var violated, refused, undecided int
	for _, v := range vs {
		fmt.Fprintln(stderr, oneLine(v.String()))
		switch {
		case v.Got != nil:
			violated++
		case v.Refused:
			refused++
		default:
			undecided++
		}
	}
	unchecked := refused + undecided
	switch {
	case unchecked > 0 && (violated > 0 || undecided > 0):
		return inspect.Undecidedf(nil, "--expect: %d expectation(s) could not be decided and %d do not hold (see above)", unchecked, violated)
	case refused > 0:
		return privilegeErrorf("--expect: %d expectation(s) could not be checked: %s", refused, procinfo.DeniedHint("reading the tasks' namespaces and kcmp(2)"))
	case violated > 0:
		return errAssertion
	}
	return nil
}

// compareTasks is what `compare --json` prints (and /api/compare
// answers): the two tasks pinned and compared, with their containers and,
// with kernel, BPF's reading of their task_structs.
func compareTasks(argA, argB string, kernel bool) (compareJSON, error) {
	// Both arguments are checked before either is opened, so a typo in B
	// is reported as such and not after a lookup of A.
	for _, arg := range []string{argA, argB} {
		if _, err := parseTask(arg); err != nil {
			return compareJSON{}, err
		}
	}
	a, err := openTask(argA)
	if err != nil {
		return compareJSON{}, err
	}
	defer a.Close()
	b, err := openTask(argB)
	if err != nil {
		return compareJSON{}, err
	}
	defer b.Close()

	r, err := sharing.Compare(a, b)
	if err != nil {
		if errors.Is(err, procinfo.ErrProcessGone) {
			return compareJSON{}, inspect.Undecidedf(err, "%v: it exited during the comparison, so nothing is reported (run again on a live task)", err)
		}
		return compareJSON{}, fmt.Errorf("comparing %s and %s: %w", argA, argB, err)
	}
	if err := addContainers(r, a, b); err != nil {
		return compareJSON{}, err
	}
	out := compareJSON{Report: r}
	if kernel {
		if out.Kernel, err = kernelWitness(r, a, b); err != nil {
			return compareJSON{}, err
		}
	}
	return out, nil
}

// writeCompareTable prints one row per resource. Notes (why a verdict is
// "?") are footnotes, because one missing privilege repeats the same note
// on many rows.
func writeCompareTable(w io.Writer, r *sharing.Report) error {
	fmt.Fprintf(w, "A: %s\nB: %s\n\n", taskLabel(r.A), taskLabel(r.B))
	var notes []string
	ref := func(note string) string {
		for i, n := range notes {
			if n == note {
				return fmt.Sprintf(" [%d]", i+1)
			}
		}
		notes = append(notes, note)
		return fmt.Sprintf(" [%d]", len(notes))
	}
	tw := newTable(w)
	fmt.Fprintln(tw, "RESOURCE\tSHARED\tEVIDENCE")
	for _, res := range r.Resources {
		ev := oneLine(res.Evidence.String())
		if res.Note != "" {
			ev += ref(oneLine(res.Note))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", res.Name, yesNo(res.Shared), ev)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for i, n := range notes {
		fmt.Fprintf(w, "[%d] %s\n", i+1, n)
	}
	fmt.Fprintln(w)
	if r.FDError != "" {
		_, err := fmt.Fprintf(w, "fds: not compared: %s\n", oneLine(r.FDError))
		return err
	}
	tw = newTable(w)
	fmt.Fprintln(tw, "FD\tSHARED\tA\tB")
	for _, p := range r.FDs {
		b := p.B
		if p.Error != "" {
			b += " (" + oneLine(p.Error) + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", p.FD, yesNo(p.Shared), p.A, b)
	}
	return tw.Flush()
}

func yesNo(b *bool) string { return verdict.Of(b).YesNo() }

// addContainers names the container each task runs in. The cgroup files
// are read through the pins, so a task that exited meanwhile is an error,
// never another process's container.
func addContainers(r *sharing.Report, a, b *procinfo.Proc) error {
	var names inspect.ContainerNames
	var err error
	if r.A.Container, err = names.Of(a); err == nil {
		r.B.Container, err = names.Of(b)
	}
	if errors.Is(err, procinfo.ErrProcessGone) {
		return inspect.Undecidedf(err, "%v: it exited during the comparison, so nothing is reported (run again on a live task)", err)
	}
	return err
}

func taskLabel(t sharing.Task) string {
	if t.Container == nil {
		return t.String()
	}
	return t.String() + " in " + inspect.ContainerLabel(t.Container)
}
