package main

import "golang.org/x/sys/unix"

// topic is what `nsinspect explain` says about one clone flag; for a
// CLONE_NEW* flag it is also the entry of that namespace type. Versions
// and files are those of clone(2), namespaces(7) and proc(5).
type topic struct {
	Flag      uint64   `json:"-"`
	Isolates  string   `json:"isolates_or_shares"`
	Since     string   `json:"since"`
	Proc      []string `json:"proc"`
	Interface []string `json:"ioctls_and_calls"`
	Demo      string   `json:"demo"`
}

var nsIoctls = []string{"NS_GET_ID", "NS_GET_NSTYPE", "NS_GET_USERNS (owning user namespace)", "setns(2)", "unshare(2)"}

func with(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}

var topics = []topic{
	{unix.CLONE_NEWNS, "the mount table: mounts and unmounts in one mount namespace are not seen in another (except through shared propagation)", "2.4.19",
		[]string{"/proc/PID/ns/mnt", "/proc/PID/mountinfo", "/proc/PID/mounts"}, with(nsIoctls, "NS_GET_MNTNS_ID"), "nsinspect clone newns"},
	{unix.CLONE_NEWUTS, "the hostname and NIS domain name (uname -n, sethostname(2))", "2.6.19",
		[]string{"/proc/PID/ns/uts", "/proc/sys/kernel/hostname", "/proc/sys/kernel/domainname"}, nsIoctls, "nsinspect clone newuts"},
	{unix.CLONE_NEWIPC, "System V IPC objects (shared memory, semaphores, message queues) and POSIX message queues", "2.6.19",
		[]string{"/proc/PID/ns/ipc", "/proc/sysvipc/shm", "/proc/sysvipc/sem", "/proc/sysvipc/msg", "/proc/sys/fs/mqueue/"}, nsIoctls, "nsinspect clone newipc"},
	{unix.CLONE_NEWNET, "network devices, addresses, routes, firewall rules, sockets and port numbers, /proc/net", "2.6.24 (complete in 2.6.29)",
		[]string{"/proc/PID/ns/net", "/proc/PID/net/dev", "/proc/PID/net/*"}, with(nsIoctls, "SIOCGSKNS (netns of a socket)"), "nsinspect clone newnet"},
	{unix.CLONE_NEWPID, "process IDs: the child is pid 1 of a new pid namespace and sees only its descendants", "2.6.24",
		[]string{"/proc/PID/ns/pid", "/proc/PID/ns/pid_for_children", "NSpid: in /proc/PID/status"}, with(nsIoctls, "NS_GET_PARENT", "NS_GET_PID_FROM_PIDNS", "NS_GET_PID_IN_PIDNS", "NS_GET_TGID_FROM_PIDNS", "NS_GET_TGID_IN_PIDNS"), "nsinspect clone newpid"},
	{unix.CLONE_NEWUSER, "user and group IDs and capabilities: the child is root with every capability inside, mapped to an unprivileged ID outside", "2.6.23 (complete in 3.8)",
		[]string{"/proc/PID/ns/user", "/proc/PID/uid_map", "/proc/PID/gid_map", "/proc/PID/setgroups"}, with(nsIoctls, "NS_GET_PARENT", "NS_GET_OWNER_UID"), "nsinspect clone newuser"},
	{unix.CLONE_NEWCGROUP, "the view of the cgroup hierarchy: the child's current cgroup becomes its root", "4.6",
		[]string{"/proc/PID/ns/cgroup", "/proc/PID/cgroup"}, nsIoctls, "nsinspect clone newcgroup"},
	{unix.CLONE_NEWTIME, "the offsets of CLOCK_MONOTONIC and CLOCK_BOOTTIME", "5.6",
		[]string{"/proc/PID/ns/time", "/proc/PID/ns/time_for_children", "/proc/PID/timens_offsets"}, nsIoctls, "nsinspect clone newtime"},
	{unix.CLONE_FILES, "shares the file descriptor table (files_struct): an fd opened or closed by one is opened or closed for both", "2.0",
		[]string{"/proc/PID/fd/", "/proc/PID/fdinfo/"}, []string{"kcmp(KCMP_FILES)", "kcmp(KCMP_FILE) for one fd"}, "nsinspect clone files"},
	{unix.CLONE_FS, "shares root directory, cwd and umask (fs_struct)", "2.0",
		[]string{"/proc/PID/cwd", "/proc/PID/root", "Umask: in /proc/PID/status"}, []string{"kcmp(KCMP_FS)"}, "nsinspect clone fs"},
	{unix.CLONE_VM, "shares the address space (mm_struct)", "2.0",
		[]string{"/proc/PID/maps", "/proc/PID/smaps"}, []string{"kcmp(KCMP_VM)"}, "nsinspect clone vm"},
	{unix.CLONE_SIGHAND, "shares the table of signal handlers (sighand_struct)", "2.0",
		[]string{"SigCgt:, SigIgn: in /proc/PID/status"}, []string{"kcmp(KCMP_SIGHAND)", "sigaction(2)"}, "nsinspect clone vm,sighand"},
	{unix.CLONE_THREAD, "puts the child in the caller's thread group: same TGID, shared signals and exit", "2.4.0",
		[]string{"/proc/PID/task/TID/", "Tgid: in /proc/PID/status"}, []string{"gettid(2)", "tgkill(2)"}, "nsinspect clone vm,sighand,thread"},
	{unix.CLONE_SYSVSEM, "shares the System V semaphore undo list (semadj values)", "2.5.10",
		[]string{"/proc/sysvipc/sem"}, []string{"kcmp(KCMP_SYSVSEM)", "semop(2) with SEM_UNDO"}, "nsinspect clone sysvsem"},
	{unix.CLONE_IO, "shares the I/O context (io_context), so the I/O scheduler treats both as one", "2.6.25",
		[]string{"/proc/PID/io"}, []string{"kcmp(KCMP_IO)", "ioprio_get(2)"}, "nsinspect clone io"},
	{unix.CLONE_PARENT, "makes the child a sibling of the caller: its parent is the caller's parent", "2.3.12",
		[]string{"PPid: in /proc/PID/status"}, []string{"getppid(2)"}, "nsinspect clone parent"},
	{unix.CLONE_VFORK, "suspends the caller until the child calls execve(2) or exits", "2.2",
		[]string{"State: in /proc/PID/status of the caller"}, []string{"vfork(2)"}, "nsinspect clone vm,vfork"},
	{unix.CLONE_PIDFD, "returns a pidfd for the child to the caller", "5.2",
		[]string{"/proc/PID/fdinfo/N of the pidfd (Pid:, NSpid:)"}, []string{"pidfd_send_signal(2)", "pidfd_getfd(2)", "PIDFD_GET_*_NAMESPACE"}, "nsinspect clone pidfd"},
	{unix.CLONE_CLEAR_SIGHAND, "resets every caught signal to SIG_DFL in the child (clone3 only)", "5.5",
		[]string{"SigCgt: in /proc/PID/status"}, []string{"clone3(2)"}, "nsinspect clone clear_sighand"},
	{unix.CLONE_INTO_CGROUP, "starts the child in the cgroup v2 directory given by clone_args.cgroup (clone3 only)", "5.7",
		[]string{"/proc/PID/cgroup"}, []string{"clone3(2)"}, "nsinspect clone into_cgroup"},
}
