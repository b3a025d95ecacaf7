package posture

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/procinfo"
)

// noTaskLabel is LSM.Reason when attr/current has nothing to say.
const noTaskLabel = "no LSM provides a task label (attr/current: EINVAL)"

// ParseAttr returns the label in the text of /proc/PID/attr/current or
// attr/<lsm>/current: without the newline AppArmor writes and the NUL
// SELinux writes; nil when that leaves nothing.
func ParseAttr(b []byte) *string {
	s := strings.TrimRight(string(b), "\x00\n")
	if s == "" {
		return nil
	}
	return &s
}

// readLSM reads the task's label through the generic attr/current (the
// first LSM that provides one answers) and AppArmor's own
// attr/apparmor/current (Linux 5.8+), where that exists.
func readLSM(p *procinfo.Proc, dir string) (LSM, error) {
	l := LSM{Evidence: []Evidence{}}
	b, err := p.ReadFile("attr/current")
	switch {
	case errors.Is(err, procinfo.ErrProcessGone):
		return l, err
	case errors.Is(err, unix.EINVAL):
		l.Reason = noTaskLabel
		l.Evidence = append(l.Evidence, Evidence{File: dir + "/attr/current", Call: "read " + dir + "/attr/current: EINVAL"})
	case err != nil:
		l.Err = err.Error()
		return l, nil
	default:
		l.Label = ParseAttr(b)
		if l.Label == nil {
			l.Reason = "no LSM provides a task label (attr/current is empty)"
		}
		l.Evidence = append(l.Evidence, Evidence{File: dir + "/attr/current", Line: 1, Text: strings.TrimRight(string(b), "\x00\n")})
	}
	b, err = p.ReadFile("attr/apparmor/current")
	switch {
	case errors.Is(err, procinfo.ErrProcessGone):
		return l, err
	case err == nil:
		l.AppArmor = ParseAttr(b)
		l.Evidence = append(l.Evidence, Evidence{File: dir + "/attr/apparmor/current", Line: 1, Text: strings.TrimRight(string(b), "\x00\n")})
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.EINVAL):
		// No AppArmor here, or a kernel before 5.8, or AppArmor built in
		// but not enabled: nothing to add.
	default:
		l.Err = err.Error()
	}
	return l, nil
}
