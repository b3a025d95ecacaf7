package procinfo

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// ErrProcessGone matches (errors.Is) every error about a task that exited,
// or never existed, while it was being read.
var ErrProcessGone = errors.New("process is gone")

// ErrParse matches every error about /proc text that did not parse.
var ErrParse = errors.New("cannot parse")

// Error is an error about one task: what was being read, and why it failed.
type Error struct {
	PID  int
	TID  int    // 0 for the process as a whole
	Op   string // what was being done: "open", "read", "readlink"
	Path string // relative to the task's /proc directory, "" for the task itself
	Err  error
}

func (e *Error) Error() string {
	who := fmt.Sprintf("pid %d", e.PID)
	if e.TID != 0 && e.TID != e.PID {
		who = fmt.Sprintf("pid %d thread %d", e.PID, e.TID)
	}
	where := e.procPath()
	if e.gone() {
		return fmt.Sprintf("%s exited while %s %s: %v", who, verb(e.Op), where, e.Err)
	}
	return fmt.Sprintf("%s: %s %s: %v", who, e.Op, where, e.Err)
}

func (e *Error) procPath() string {
	p := fmt.Sprintf("/proc/%d", e.PID)
	if e.TID != 0 && e.TID != e.PID {
		p += fmt.Sprintf("/task/%d", e.TID)
	}
	if e.Path != "" {
		p += "/" + e.Path
	}
	return p
}

func verb(op string) string {
	switch op {
	case "open":
		return "opening"
	case "readlink", "read":
		return "reading"
	}
	return op + " of"
}

func (e *Error) gone() bool {
	return errors.Is(e.Err, unix.ESRCH) || (e.Path == "" && errors.Is(e.Err, unix.ENOENT))
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrProcessGone) true when the task has exited:
// ESRCH anywhere, or ENOENT on the task's own directory. ENOENT on a file
// inside a live task (a zombie's ns links, a missing fdinfo) is not "gone".
func (e *Error) Is(target error) bool { return target == ErrProcessGone && e.gone() }
