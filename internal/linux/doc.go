// Package linux holds the minimal wrappers for the system calls and ioctls
// that golang.org/x/sys/unix lacks or wraps awkwardly: kcmp(2) and its
// KCMP_* types, the nsfs ioctls of ioctl_ns(2) (NS_GET_ID returns a 64-bit
// value, NS_GET_USERNS/NS_GET_PARENT an fd), pidfd_open(2) with
// PIDFD_THREAD, listns(2) paged to the end, open_by_handle_at(2) of an
// nsfs file handle built from a namespace id, and a BPF program attached
// to a kprobe through perf_event_open(2) (AttachKprobe).
//
// Every wrapper is one system call (Listns one per 512 namespaces;
// AttachKprobe three, its fd's ioctls). Errors come back as *os.SyscallError so
// that errors.Is(err, unix.ESRCH) keeps working for callers, as in runc's
// libcontainer/system.
//
// Man pages: kcmp(2), ioctl_ns(2), pidfd_open(2), listns(2),
// open_by_handle_at(2), perf_event_open(2).
package linux
