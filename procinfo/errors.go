package procinfo

import (
	"errors"
	"fmt"
	"os"

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
	// reaped: a file of the task's directory was missing (ENOENT) and the
	// pidfd then said the process was gone (see Proc.err).
	reaped bool
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
	return e.reaped || errors.Is(e.Err, unix.ESRCH) || (e.Path == "" && errors.Is(e.Err, unix.ENOENT))
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrProcessGone) true when the task has exited:
// ESRCH anywhere, ENOENT on the task's own directory, or ENOENT on a file
// inside it once the process is reaped. ENOENT on a file inside a task
// that is alive or a zombie (a zombie's ns links, a missing fdinfo) is
// not "gone".
func (e *Error) Is(target error) bool { return target == ErrProcessGone && e.gone() }

// IsDenied reports whether err is the kernel refusing access: EACCES or
// EPERM. Another user's fd table, cwd, root and namespace links, and
// kcmp(2) on its tasks, need ptrace read access (ptrace_may_access with
// PTRACE_MODE_READ_FSCREDS), and a refusal is one or the other.
func IsDenied(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)
}

// DeniedHint is the one line a user reads for an IsDenied error: what
// (the operation refused, "reading the fd table of process 42", "kcmp")
// needs PtraceNeed, and what to do about it, which depends on whether
// this process already runs as root.
func DeniedHint(what string) string { return deniedHint(what, os.Geteuid() == 0) }

func deniedHint(what string, root bool) string {
	if !root {
		return what + " needs " + PtraceNeed + ": run as root or as the process's owner"
	}
	return what + " was refused although nsinspect runs as root: the kernel's ptrace check needs " + PtraceNeed +
		", and the process holds capabilities this one lacks, or lives in a user namespace ours does not own, or an LSM (Yama ptrace_scope, SELinux, Landlock) denies it"
}
