package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/procinfo"
)

// ptraceNeed names the privilege the kernel checks before it shows
// another user's fd table, cwd, root or namespaces: ptrace read access
// (PTRACE_MODE_READ_FSCREDS, ptrace(2)).
const ptraceNeed = "CAP_SYS_PTRACE (ptrace read access to another user's process)"

// isDenied reports whether err is the kernel refusing access.
func isDenied(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM)
}

// readError turns an error from reading a pinned task into what the user
// sees: a task that exited is bad input (exit 2), a refusal names the
// capability (exit 4); anything else keeps its text (exit 5).
func readError(p *procinfo.Proc, what string, err error) error {
	switch {
	case errors.Is(err, procinfo.ErrProcessGone):
		return usageErrorf("process %d exited while its %s was read (see ps -e)", p.PID, what)
	case isDenied(err) && os.Geteuid() == 0:
		return privilegeErrorf("reading the %s of process %d was refused although nsinspect runs as root: the kernel's ptrace check needs %s, and the process holds capabilities this one lacks, or lives in a user namespace ours does not own, or an LSM denies it", what, p.PID, ptraceNeed)
	case isDenied(err):
		return privilegeErrorf("reading the %s of process %d needs %s: run as root or as the process's owner", what, p.PID, ptraceNeed)
	}
	return fmt.Errorf("reading the %s of process %d: %w", what, p.PID, err)
}
