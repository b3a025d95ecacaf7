package main

import (
	"errors"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/render"
	"github.com/nsinspect/nsinspect/sharing"
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
		Long: `compare pins two tasks (a PID, "self", PID:TID or a container: docker:NAME,
podman:[USER/]NAME, runc:[USER/]ID, containerd:[NAMESPACE/]ID) and reports, with the kernel's
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
  nsinspect compare self docker:web --json
  nsinspect compare --json 4242 4243
  nsinspect compare 4242 4242:4250 --expect files=shared,vm=shared
  nsinspect compare self 4242 --expect net=separate,user=shared
  nsinspect compare --kernel 4242 4242:4250`,
		Args: usageArgs(cobra.ExactArgs(2)),
		RunE: func(c *cobra.Command, args []string) error {
			return runCompare(c.OutOrStdout(), c.ErrOrStderr(), args[0], args[1], expect, asJSON, kernel)
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print a JSON object with schema_version, a, b, resources and fds")
	c.Flags().BoolVar(&kernel, "kernel", false, "add BPF's reading of the task_struct pointers beside kcmp's verdicts")
	c.Flags().StringArrayVar(&expect, "expect", nil, "assert NAME=shared|separate,... (repeatable); names: "+strings.Join(sharing.ResourceNames(), " "))
	c.SetFlagErrorFunc(compareFlagError)
	return c
}

// compareFlagError explains a negative PID, which pflag takes for a
// cluster of shorthand flags ("-5" is the unknown flag '5').
func compareFlagError(c *cobra.Command, err error) error {
	var ne *pflag.NotExistError
	if errors.As(err, &ne) {
		if s := ne.GetSpecifiedShortnames(); s != "" && s[0] >= '0' && s[0] <= '9' {
			return usageErrorf("bad PID %q: must be greater than 0 (want %s)", "-"+s, inspect.TargetForms())
		}
	}
	return usageErrorf("%v (see '%s --help')", err, c.CommandPath())
}

func runCompare(stdout, stderr io.Writer, argA, argB string, expect []string, asJSON, kernel bool) error {
	exp, err := inspect.ParseExpect(expect)
	if err != nil {
		return err
	}
	out, err := inspect.CompareTasks(argA, argB, kernel)
	if err != nil {
		return err
	}
	if err := write(stdout, asJSON, out, render.Compare); err != nil {
		return err
	}
	vs, err := inspect.CompareOutcome(out.Report, exp)
	render.Violations(stderr, vs)
	return err
}
