package linux

import (
	"os"

	"golang.org/x/sys/unix"
)

// PidfdOpen returns an O_CLOEXEC pidfd for pid (pidfd_open(2)). A pidfd
// refers to one process for its whole life: a later process that gets the
// same number is a different struct pid, which is what makes it a pin.
func PidfdOpen(pid int) (int, error) {
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, os.NewSyscallError("pidfd_open", err)
	}
	return fd, nil
}

// PidfdAlive reports whether the process behind pidfd has not yet been
// reaped (signal 0 through pidfd_send_signal(2)). A zombie counts as
// alive: measured on Linux 6.18, the kernel still finds its task.
//
// EPERM counts as alive too: the kernel looks the task up before it checks
// the right to signal it, so EPERM means it found one, and an unprivileged
// caller must still be able to pin another user's process.
func PidfdAlive(pidfd int) error {
	err := unix.PidfdSendSignal(pidfd, 0, nil, 0)
	if err != nil && err != unix.EPERM {
		return os.NewSyscallError("pidfd_send_signal", err)
	}
	return nil
}

// PIDFD_THREAD (= O_EXCL, Linux 6.9) makes pidfd_open accept a thread id
// and pin that one thread rather than the thread group.
const PIDFD_THREAD = unix.O_EXCL

// PidfdOpenThread pins one thread by its tid.
func PidfdOpenThread(tid int) (int, error) {
	fd, err := unix.PidfdOpen(tid, PIDFD_THREAD)
	if err != nil {
		return -1, os.NewSyscallError("pidfd_open", err)
	}
	return fd, nil
}

// PidfdSendSignal sends sig to the process behind pidfd; a reused PID can
// never receive it.
func PidfdSendSignal(pidfd int, sig unix.Signal) error {
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil {
		return os.NewSyscallError("pidfd_send_signal", err)
	}
	return nil
}
