package flags

import "golang.org/x/sys/unix"

// The one table of what nsinspect knows about each clone(2) flag: Parse
// reads the names from it, experiments run the Known flags, and `nsinspect
// explain` prints every entry. Versions and files are those of clone(2),
// namespaces(7) and proc(5).

var nsIoctls = []string{"NS_GET_ID", "NS_GET_NSTYPE", "NS_GET_USERNS (owning user namespace)", "setns(2)", "unshare(2)"}

func plus(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}

// Known lists every flag an experiment runs, in the order clone(2)
// documents them.
var Known = []Flag{
	{Value: unix.CLONE_NEWNS, Name: "CLONE_NEWNS",
		Doc:    "child gets a new mount namespace, a copy of the parent's mount table",
		Effect: "the mount table: mounts and unmounts in one mount namespace are not seen in another (except through shared propagation)", Since: "2.4.19",
		Proc: []string{"/proc/PID/ns/mnt", "/proc/PID/mountinfo", "/proc/PID/mounts"}, Calls: plus(nsIoctls, "NS_GET_MNTNS_ID"), Demo: "nsinspect clone newns"},
	{Value: unix.CLONE_NEWUTS, Name: "CLONE_NEWUTS",
		Doc:    "child gets a new UTS namespace: its own hostname and domainname",
		Effect: "the hostname and NIS domain name (uname -n, sethostname(2))", Since: "2.6.19",
		Proc: []string{"/proc/PID/ns/uts", "/proc/sys/kernel/hostname", "/proc/sys/kernel/domainname"}, Calls: nsIoctls, Demo: "nsinspect clone newuts"},
	{Value: unix.CLONE_NEWIPC, Name: "CLONE_NEWIPC",
		Doc:    "child gets a new IPC namespace: its own SysV IPC objects and POSIX message queues",
		Effect: "System V IPC objects (shared memory, semaphores, message queues) and POSIX message queues", Since: "2.6.19",
		Proc: []string{"/proc/PID/ns/ipc", "/proc/sysvipc/shm", "/proc/sysvipc/sem", "/proc/sysvipc/msg", "/proc/sys/fs/mqueue/"}, Calls: nsIoctls, Demo: "nsinspect clone newipc"},
	{Value: unix.CLONE_NEWNET, Name: "CLONE_NEWNET",
		Doc:    "child gets a new network namespace: only a loopback device, its own routes and sockets",
		Effect: "network devices, addresses, routes, firewall rules, sockets and port numbers, /proc/net", Since: "2.6.24 (complete in 2.6.29)",
		Proc: []string{"/proc/PID/ns/net", "/proc/PID/net/dev", "/proc/PID/net/*"}, Calls: plus(nsIoctls, "SIOCGSKNS (netns of a socket)"), Demo: "nsinspect clone newnet"},
	{Value: unix.CLONE_NEWPID, Name: "CLONE_NEWPID",
		Doc:    "child is PID 1 of a new PID namespace",
		Effect: "process IDs: the child is pid 1 of a new pid namespace and sees only its descendants", Since: "2.6.24",
		Proc: []string{"/proc/PID/ns/pid", "/proc/PID/ns/pid_for_children", "NSpid: in /proc/PID/status"}, Calls: plus(nsIoctls, "NS_GET_PARENT", "NS_GET_PID_FROM_PIDNS", "NS_GET_PID_IN_PIDNS", "NS_GET_TGID_FROM_PIDNS", "NS_GET_TGID_IN_PIDNS"), Demo: "nsinspect clone newpid",
		ForChildren: "the pid namespace the task's next children are born in. It is the task's own pid namespace until unshare(CLONE_NEWPID) or setns(2) to a pid namespace moves this link alone: a task never changes its own pid namespace, its first child after the call is pid 1 of the new one. Until that child exists the link cannot be opened (ENOENT). 'nsinspect unshare newpid' shows it"},
	{Value: unix.CLONE_NEWUSER, Name: "CLONE_NEWUSER",
		Doc:    "child gets a new user namespace, in which it has every capability",
		Effect: "user and group IDs and capabilities: the child is root with every capability inside, mapped to an unprivileged ID outside", Since: "2.6.23 (complete in 3.8)",
		Proc: []string{"/proc/PID/ns/user", "/proc/PID/uid_map", "/proc/PID/gid_map", "/proc/PID/setgroups"}, Calls: plus(nsIoctls, "NS_GET_PARENT", "NS_GET_OWNER_UID"), Demo: "nsinspect clone newuser"},
	{Value: unix.CLONE_NEWCGROUP, Name: "CLONE_NEWCGROUP",
		Doc:    "child gets a new cgroup namespace rooted at its current cgroup",
		Effect: "the view of the cgroup hierarchy: the child's current cgroup becomes its root", Since: "4.6",
		Proc: []string{"/proc/PID/ns/cgroup", "/proc/PID/cgroup"}, Calls: nsIoctls, Demo: "nsinspect clone newcgroup"},
	{Value: unix.CLONE_NEWTIME, Name: "CLONE_NEWTIME", Clone3: true,
		Doc:    "child gets a new time namespace (clone3 only: in clone(2) the value is the exit-signal byte)",
		Effect: "the offsets of CLOCK_MONOTONIC and CLOCK_BOOTTIME", Since: "5.6",
		Proc: []string{"/proc/PID/ns/time", "/proc/PID/ns/time_for_children", "/proc/PID/timens_offsets"}, Calls: nsIoctls, Demo: "nsinspect clone newtime",
		ForChildren: "the time namespace the task's next children are born in. It is the task's own time namespace until unshare(CLONE_NEWTIME) or setns(2) to a time namespace moves this link alone: the caller stays where it is, its children are born in the new one. From Linux 6.2 on, clone(CLONE_NEWTIME|CLONE_VM) leaves the child itself in the parent's time namespace until it execs, with only this link new. 'nsinspect unshare newtime' shows it"},
	{Value: unix.CLONE_FILES, Name: "CLONE_FILES",
		Doc:    "parent and child share one file descriptor table (files_struct)",
		Effect: "shares the file descriptor table (files_struct): an fd opened or closed by one is opened or closed for both", Since: "2.0",
		Proc: []string{"/proc/PID/fd/", "/proc/PID/fdinfo/"}, Calls: []string{"kcmp(KCMP_FILES)", "kcmp(KCMP_FILE) for one fd"}, Demo: "nsinspect clone files"},
	{Value: unix.CLONE_FS, Name: "CLONE_FS",
		Doc:    "parent and child share root, cwd and umask (fs_struct)",
		Effect: "shares root directory, cwd and umask (fs_struct)", Since: "2.0",
		Proc: []string{"/proc/PID/cwd", "/proc/PID/root", "Umask: in /proc/PID/status"}, Calls: []string{"kcmp(KCMP_FS)"}, Demo: "nsinspect clone fs"},
	{Value: unix.CLONE_VM, Name: "CLONE_VM",
		Doc:    "parent and child share the address space (mm_struct)",
		Effect: "shares the address space (mm_struct)", Since: "2.0",
		Proc: []string{"/proc/PID/maps", "/proc/PID/smaps"}, Calls: []string{"kcmp(KCMP_VM)"}, Demo: "nsinspect clone vm"},
	{Value: unix.CLONE_SIGHAND, Name: "CLONE_SIGHAND",
		Doc:    "parent and child share the signal handler table (sighand_struct)",
		Effect: "shares the table of signal handlers (sighand_struct)", Since: "2.0",
		Proc: []string{"SigCgt:, SigIgn: in /proc/PID/status"}, Calls: []string{"kcmp(KCMP_SIGHAND)", "sigaction(2)"}, Demo: "nsinspect clone vm,sighand"},
	{Value: unix.CLONE_THREAD, Name: "CLONE_THREAD",
		Doc:    "child is a thread in the parent's thread group",
		Effect: "puts the child in the caller's thread group: same TGID, shared signals and exit", Since: "2.4.0",
		Proc: []string{"/proc/PID/task/TID/", "Tgid: in /proc/PID/status"}, Calls: []string{"gettid(2)", "tgkill(2)"}, Demo: "nsinspect clone vm,sighand,thread"},
	{Value: unix.CLONE_SYSVSEM, Name: "CLONE_SYSVSEM",
		Doc:    "parent and child share one SysV semaphore undo list",
		Effect: "shares the System V semaphore undo list (semadj values)", Since: "2.5.10",
		Proc: []string{"/proc/sysvipc/sem"}, Calls: []string{"kcmp(KCMP_SYSVSEM)", "semop(2) with SEM_UNDO"}, Demo: "nsinspect clone sysvsem"},
	{Value: unix.CLONE_IO, Name: "CLONE_IO",
		Doc:    "parent and child share an I/O context (io_context)",
		Effect: "shares the I/O context (io_context), so the I/O scheduler treats both as one", Since: "2.6.25",
		Proc: []string{"/proc/PID/io"}, Calls: []string{"kcmp(KCMP_IO)", "ioprio_get(2)"}, Demo: "nsinspect clone io"},
	{Value: unix.CLONE_PARENT, Name: "CLONE_PARENT",
		Doc:    "child's parent is the caller's parent, not the caller",
		Effect: "makes the child a sibling of the caller: its parent is the caller's parent", Since: "2.3.12",
		Proc: []string{"PPid: in /proc/PID/status"}, Calls: []string{"getppid(2)"}, Demo: "nsinspect clone parent"},
	{Value: unix.CLONE_VFORK, Name: "CLONE_VFORK",
		Doc:    "the caller is suspended until the child exits or execs",
		Effect: "suspends the caller until the child calls execve(2) or exits", Since: "2.2",
		Proc: []string{"State: in /proc/PID/status of the caller"}, Calls: []string{"vfork(2)"}, Demo: "nsinspect clone vm,vfork"},
	{Value: unix.CLONE_PIDFD, Name: "CLONE_PIDFD",
		Doc:    "the caller gets a pidfd on the child",
		Effect: "returns a pidfd for the child to the caller", Since: "5.2",
		Proc: []string{"/proc/PID/fdinfo/N of the pidfd (Pid:, NSpid:)"}, Calls: []string{"pidfd_send_signal(2)", "pidfd_getfd(2)", "PIDFD_GET_*_NAMESPACE"}, Demo: "nsinspect clone pidfd"},
	{Value: unix.CLONE_CLEAR_SIGHAND, Name: "CLONE_CLEAR_SIGHAND", Clone3: true,
		Doc:    "child's signal handlers are reset to SIG_DFL (clone3 only)",
		Effect: "resets every caught signal to SIG_DFL in the child (clone3 only)", Since: "5.5",
		Proc: []string{"SigCgt: in /proc/PID/status"}, Calls: []string{"clone3(2)"}, Demo: "nsinspect clone clear_sighand"},
	{Value: unix.CLONE_INTO_CGROUP, Name: "CLONE_INTO_CGROUP", Clone3: true,
		Doc:    "child starts in the cgroup given by an fd (clone3 only)",
		Effect: "starts the child in the cgroup v2 directory given by clone_args.cgroup (clone3 only)", Since: "5.7",
		Proc: []string{"/proc/PID/cgroup"}, Calls: []string{"clone3(2)"}, Demo: "nsinspect clone into_cgroup"},
}

// LeftOut lists the clone(2) flags an experiment does not run, with why:
// they hand the kernel addresses for a thread library, or concern a
// tracer, and change nothing that parent and child share. strace prints
// them (CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID for a
// pthread_create), so Parse names them and says why rather than calling
// them unknown.
var LeftOut = []Flag{
	{Value: unix.CLONE_SETTLS, Name: "CLONE_SETTLS",
		Doc:    "the child's thread-local storage pointer is set to clone's tls argument (the FS base on x86_64, TPIDR_EL0 on arm64)",
		Effect: "gives a new thread its own TLS block (where errno and __thread variables live)", Since: "2.5.32",
		Proc: []string{}, Calls: []string{"arch_prctl(2) ARCH_GET_FS (x86_64)", "set_thread_area(2) (i386)"},
		LeftOut: "it hands the child an address for a thread library's TLS block and changes nothing parent and child share"},
	{Value: unix.CLONE_PARENT_SETTID, Name: "CLONE_PARENT_SETTID",
		Doc:    "the kernel stores the child's TID at parent_tid, in the parent's memory, before clone returns",
		Effect: "tells a thread library the new thread's TID at once", Since: "2.5.49",
		Proc: []string{}, Calls: []string{"gettid(2)"},
		LeftOut: "it reports a TID to a thread library and changes nothing parent and child share; in clone(2) CLONE_PIDFD returns its fd through the same argument"},
	{Value: unix.CLONE_CHILD_CLEARTID, Name: "CLONE_CHILD_CLEARTID",
		Doc:    "when the child exits, the kernel zeroes child_tid in the child's memory and wakes a futex on it: this is how pthread_join waits",
		Effect: "lets a thread library learn that a thread has exited", Since: "2.5.49",
		Proc: []string{}, Calls: []string{"set_tid_address(2)", "futex(2) FUTEX_WAKE"},
		LeftOut: "it tells a thread library that a thread ended and changes nothing parent and child share"},
	{Value: unix.CLONE_CHILD_SETTID, Name: "CLONE_CHILD_SETTID",
		Doc:    "the kernel stores the child's TID at child_tid, in the child's memory, as the child starts",
		Effect: "tells the new thread or process its own TID (fork(2) in glibc uses it)", Since: "2.5.49",
		Proc: []string{}, Calls: []string{"set_tid_address(2)", "gettid(2)"},
		LeftOut: "it records a TID for a thread library and changes nothing parent and child share"},
	{Value: unix.CLONE_PTRACE, Name: "CLONE_PTRACE",
		Doc:    "if the caller is being traced, the child is traced by the same tracer",
		Effect: "extends a ptrace(2) session to the child", Since: "2.2",
		Proc: []string{"TracerPid: in /proc/PID/status"}, Calls: []string{"ptrace(2)"},
		LeftOut: "it concerns a tracer, and nsinspect attaches none; it changes nothing parent and child share"},
	{Value: unix.CLONE_UNTRACED, Name: "CLONE_UNTRACED",
		Doc:    "a tracer cannot force CLONE_PTRACE on the child",
		Effect: "keeps the child out of a tracer's PTRACE_O_TRACECLONE", Since: "2.5.46",
		Proc: []string{"TracerPid: in /proc/PID/status"}, Calls: []string{"ptrace(2) PTRACE_O_TRACECLONE"},
		LeftOut: "like CLONE_PTRACE it concerns tracing, not what parent and child share"},
	{Value: unix.CLONE_DETACHED, Name: "CLONE_DETACHED",
		Doc:    "ignored by clone(2) since Linux 2.6.2 (it once meant: no exit signal); clone3(2) refuses it",
		Effect: "nothing: the kernel ignores it", Since: "2.5.32 (ignored since 2.6.2)",
		Proc: []string{}, Calls: []string{"clone(2)"},
		LeftOut: "the kernel ignores it, so an experiment would show nothing"},
}

// ExitSignal is the low byte of clone(2)'s flags (CSIGNAL): not a flag but
// the signal the parent gets when the child exits. strace prints it last
// ("CLONE_CHILD_SETTID|SIGCHLD"). Every experiment passes SIGCHLD, so
// ParseClone accepts SIGCHLD and refuses another exit signal.
var ExitSignal = Flag{Value: unix.CSIGNAL, Name: "CSIGNAL",
	Doc:    "the low byte of clone(2)'s flags is not a flag but the exit signal: the signal the parent gets when the child exits (strace prints it last, e.g. SIGCHLD); clone3(2) takes it in clone_args.exit_signal",
	Effect: "which signal tells the parent that the child ended: SIGCHLD as fork(2) sends, another signal (the parent's wait then needs __WALL or __WCLONE), or none; a thread (CLONE_THREAD) sends none. Every nsinspect experiment passes SIGCHLD (clone3 with CLONE_THREAD or CLONE_PARENT none), so 'nsinspect clone' accepts SIGCHLD as strace prints it and refuses any other exit signal",
	Since:  "2.0", Proc: []string{"/proc/PID/stat field 38 (exit_signal)"},
	Calls: []string{"wait4(2) and waitid(2) (__WALL, __WCLONE)", "clone3(2) clone_args.exit_signal"},
	Demo:  "nsinspect clone net,SIGCHLD"}
