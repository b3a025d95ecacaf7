package flags

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// ExplainSetns lists the setns(2) rules behind an errno the kernel
// returned for a call that nsinspect saw: nstype is the call's second
// argument, fdType the CLONE_NEW* type of the namespace file the fd was
// (0 when it was not one: a pidfd or something else), pidfd whether it
// was not a namespace file, and threads the caller's thread count.
func ExplainSetns(nstype, fdType uint64, pidfd bool, errno syscall.Errno, threads int) []string {
	var out []string
	s := Set(nstype)
	switch errno {
	case unix.EBADF:
		out = append(out, "the fd is not an open file descriptor")
	case unix.EINVAL:
		if !pidfd && nstype != 0 && fdType != 0 && nstype != fdType {
			out = append(out, "the fd is a "+Set(fdType).String()+" namespace but nstype asks for "+s.String()+": nstype must be 0 or the fd's own type")
		}
		if pidfd && (nstype == 0 || nstype&^Namespaces != 0) {
			out = append(out, "with a pidfd, nstype must be one or more CLONE_NEW* flags and nothing else")
		}
		if (fdType == unix.CLONE_NEWUSER || (pidfd && s.Has(unix.CLONE_NEWUSER))) && threads > 1 {
			out = append(out, "a multi-threaded process cannot join a user namespace: all its threads share one set of credentials")
		}
		if fdType == unix.CLONE_NEWUSER || (pidfd && s.Has(unix.CLONE_NEWUSER)) {
			out = append(out, "a task cannot join the user namespace it is already in")
		}
		if fdType == unix.CLONE_NEWPID || (pidfd && s.Has(unix.CLONE_NEWPID)) {
			out = append(out, "a pid namespace can only be joined from an ancestor of it (or itself): the target must be a descendant of the caller's pid namespace")
		}
		if fdType == unix.CLONE_NEWNS || (pidfd && s.Has(unix.CLONE_NEWNS)) {
			out = append(out, "a task that shares its fs (CLONE_FS: root and cwd) with another task cannot change mount namespace")
		}
		if !pidfd && fdType == 0 {
			out = append(out, "the fd is neither a namespace file nor a pidfd")
		}
	case unix.EPERM:
		out = append(out, "joining a namespace needs CAP_SYS_ADMIN in the user namespace that owns it (and a mount namespace also CAP_SYS_CHROOT and CAP_SYS_ADMIN in the caller's own)")
	case unix.ESRCH:
		out = append(out, "the process the pidfd refers to has exited")
	case unix.EUSERS:
		out = append(out, "a multi-threaded process cannot join a time namespace")
	}
	return out
}
