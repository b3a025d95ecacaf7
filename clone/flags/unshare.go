package flags

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// Unshareable are the flags unshare(2) takes.
const Unshareable = Namespaces | unix.CLONE_FILES | unix.CLONE_FS | unix.CLONE_SYSVSEM |
	unix.CLONE_VM | unix.CLONE_SIGHAND | unix.CLONE_THREAD

// UnshareChanges says whether a /proc/PID/ns link changes when the caller
// unshares s: a namespace link changes for its flag, except that
// CLONE_NEWPID and CLONE_NEWTIME only change the *_for_children link,
// because a task never changes its own PID or time namespace
// (pid_namespaces(7), time_namespaces(7)).
func UnshareChanges(s Set, link string) bool {
	switch link {
	case "pid", "time":
		return false
	case "pid_for_children":
		return s.Has(unix.CLONE_NEWPID)
	case "time_for_children":
		return s.Has(unix.CLONE_NEWTIME)
	}
	for _, e := range expectations {
		if e.name == link {
			return s.Has(e.flag)
		}
	}
	return false
}

// ThreadLeaves says whether a thread that unshares s stops sharing a kcmp
// resource with its leader; ok is false for the resources the --thread
// view does not show. ksys_unshare adds implied flags: CLONE_NEWNS (and
// CLONE_NEWUSER) imply CLONE_FS, and CLONE_NEWIPC detaches the SysV undo
// list as CLONE_SYSVSEM does, since its semaphores stay in the old IPC
// namespace.
func ThreadLeaves(s Set, name string) (left, ok bool) {
	switch name {
	case "files":
		return s.Has(unix.CLONE_FILES), true
	case "fs":
		return s.Has(unix.CLONE_FS) || s.Has(unix.CLONE_NEWNS) || s.Has(unix.CLONE_NEWUSER), true
	case "sysvsem":
		return s.Has(unix.CLONE_SYSVSEM) || s.Has(unix.CLONE_NEWIPC), true
	}
	return false, false
}

// ExplainUnshare lists the unshare(2) rules behind an errno.
func ExplainUnshare(s Set, errno syscall.Errno, thread bool) []string {
	var out []string
	if errno == unix.EINVAL && thread && s.Has(unix.CLONE_NEWUSER) {
		out = append(out, "a multi-threaded process cannot unshare CLONE_NEWUSER: all threads of a group share one set of credentials' user namespace")
	}
	if errno == unix.EINVAL && thread && uint64(s)&(unix.CLONE_VM|unix.CLONE_SIGHAND|unix.CLONE_THREAD) != 0 {
		out = append(out, "CLONE_VM, CLONE_SIGHAND and CLONE_THREAD can only be unshared by a single-threaded process, where they change nothing")
	}
	if errno == unix.EINVAL && uint64(s)&^Unshareable != 0 {
		out = append(out, "unshare(2) accepts only CLONE_NEW*, CLONE_FILES, CLONE_FS, CLONE_SYSVSEM (and CLONE_VM/SIGHAND/THREAD as no-ops): not "+Set(uint64(s)&^Unshareable).String())
	}
	if errno == unix.EPERM {
		out = append(out, "unsharing a namespace other than a user namespace needs CAP_SYS_ADMIN; CLONE_NEWUSER needs the caller not to be chrooted and unprivileged user namespaces to be allowed")
	}
	return out
}
