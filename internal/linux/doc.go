// Package linux holds the minimal wrappers for the system calls and ioctls
// that golang.org/x/sys/unix lacks: kcmp(2), the nsfs ioctls that return a
// 64-bit value, and the PIDFD_GET_*_NAMESPACE ioctls of pidfd_open(2).
//
// Every wrapper is one system call. Errors come back as *os.SyscallError so
// that errors.Is(err, unix.ESRCH) keeps working for callers, as in runc's
// libcontainer/system.
//
// Man pages: kcmp(2), ioctl_ns(2), pidfd_open(2).
package linux
