package inspect

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone"
	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/clone/report"
)

// Clone runs `clone FLAGS`: FLAGS parsed as clone(2) takes them (bad input
// otherwise), req's Cgroup checked and made absolute (CLONE_INTO_CGROUP
// added), the experiment run. A lab nsinspect may not make is a
// privilege error. The report's own outcome is CloneOutcome.
func Clone(arg string, req clone.Request) (*report.Clone, error) {
	set, err := flags.ParseClone(arg)
	if err != nil {
		return nil, BadInputf("%v", err)
	}
	if req.Host && req.UserNS {
		return nil, BadInputf("--host and --userns conflict: --userns makes the lab in a user namespace, --host runs without a lab")
	}
	req.Flags = set
	if req.Cgroup != "" {
		if req.Cgroup, err = cgroupDir(req.Cgroup); err != nil {
			return nil, err
		}
		req.Flags |= flags.Set(unix.CLONE_INTO_CGROUP)
	}
	rep, err := clone.Run(req)
	return rep, labError(err)
}

// Unshare runs `unshare FLAGS`: FLAGS parsed, and only those unshare(2)
// takes allowed. The report's own outcome is UnshareOutcome.
func Unshare(arg string, req clone.Request) (*report.Unshare, error) {
	set, err := flags.Parse(arg)
	if err != nil {
		return nil, BadInputf("%v", err)
	}
	if extra := uint64(set) &^ flags.Unshareable; extra != 0 {
		return nil, BadInputf("unshare(2) does not take %s: it takes CLONE_NEW*, CLONE_FILES, CLONE_FS and CLONE_SYSVSEM (see 'nsinspect clone' for the rest)", flags.Set(extra))
	}
	req.Flags = set
	rep, err := clone.RunUnshare(req)
	return rep, labError(err)
}

func labError(err error) error {
	if errors.Is(err, clone.ErrNoLab) {
		return Privilegef("%v", err)
	}
	return err
}

// cgroupDir checks that dir is a directory of a cgroup v2 hierarchy, which
// is what CLONE_INTO_CGROUP takes, and returns its absolute path (the lab
// opens it from its own working directory).
func cgroupDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", BadInputf("--cgroup %s: %v", dir, err)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(abs, &fs); err != nil {
		return "", BadInputf("--cgroup %s: %v (give a directory under the cgroup2 mount, e.g. /sys/fs/cgroup/NAME, made with mkdir)", dir, err)
	}
	if fs.Type != unix.CGROUP2_SUPER_MAGIC {
		return "", BadInputf("--cgroup %s: not a cgroup v2 directory (statfs type %#x, want cgroup2 %#x); give a directory under the cgroup2 mount, e.g. /sys/fs/cgroup/NAME", dir, fs.Type, unix.CGROUP2_SUPER_MAGIC)
	}
	if st, err := os.Stat(abs); err != nil || !st.IsDir() {
		return "", BadInputf("--cgroup %s: not a directory (a cgroup is a directory under the cgroup2 mount)", dir)
	}
	return abs, nil
}

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
