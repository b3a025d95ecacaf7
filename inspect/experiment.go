package inspect

import (
	"fmt"
	"strings"

	"github.com/nsinspect/nsinspect/clone/report"
)

// CloneOutcome classifies a clone experiment's report: the kernel's
// refusal (exit 3), a verdict that disagrees with clone(2) (exit 1), or
// nil.
func CloneOutcome(rep *report.Clone) error {
	if rep.Errno != nil {
		return KernelRefusal(rep.Syscall, rep.Flags, *rep.Errno, rep.Explanation)
	}
	if len(rep.Disagreements) > 0 {
		return Assertionf("%d verdict(s) disagree with clone(2); see DISAGREE above", len(rep.Disagreements))
	}
	return nil
}

// UnshareOutcome classifies an unshare experiment's report: the kernel's
// refusal (exit 3), a result that disagrees with unshare(2) (exit 1), or
// nil.
func UnshareOutcome(rep *report.Unshare) error {
	switch {
	case rep.Errno != nil:
		return KernelRefusal(rep.Syscall, rep.Flags, *rep.Errno, rep.Explanation)
	case len(rep.Disagreements) > 0:
		return Assertionf("%d result(s) disagree with unshare(2)", len(rep.Disagreements))
	}
	return nil
}

// KernelRefusal is the kernel's refusal of an experiment's call (exit 3),
// in one line for stderr. The report (stdout)
// already explains the refusal, but a script that only reads stderr and the
// exit code must learn what the kernel said too.
func KernelRefusal(syscall string, flags []string, errno string, why []string) error {
	msg := fmt.Sprintf("the kernel refused %s(%s) with %s", syscall, strings.Join(flags, "|"), errno)
	if len(why) == 0 {
		return Wrap(ErrKernelRefused, nil, "%s (see the report and 'nsinspect explain')", msg)
	}
	return Wrap(ErrKernelRefused, nil, "%s: %s", msg, why[0])
}
