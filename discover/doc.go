// Package discover is nsinspect's one discovery engine: a pass runs its
// sources, each of which records the tasks and namespaces it finds in one
// registry, then climbs the namespace hierarchy once and hands back a
// model.Model that every view reads (ls, ls --tree, nsproxy, graph,
// kthreads). Discovery is best-effort in the way of lxkns: a process that
// exits during the pass is skipped, never an error, and what cannot be read
// for lack of privilege is counted and reported rather than fatal.
//
// # Sources
//
// A Source is one small interface, Discover(*Pass). Proc is the /proc
// walk; BPF reads the kernel's own task list through bpfiter's iterators;
// Listns is the /proc walk followed by the kernel's list of active
// namespaces (listns(2), Linux 6.19), which adds what the walk missed
// (see its doc for what each finds that the other does not). All record into the same registry, so that their
// namespaces have the same identity (inode, and NS_GET_ID where the
// kernel has it).
//
// Auto runs the cheaper of the two that gives the full answer, decided
// from what is free to know: Proc on a host of fewer than AutoThreads
// threads (the fourth field of /proc/loadavg), where loading the BPF
// programs costs more than the walk. BPF on a larger one, for a view that
// needs the kernel objects only BPF reads (Options.Objects), from a pid
// namespace other than the initial one (NS_GET_PARENT does not show its
// ancestors), and wherever /proc refuses a read that BPF makes from the
// kernel's structs: PID 1's links refused, or the walk refused any task's
// links or fd table (as to a caller without CAP_SYS_PTRACE), and the pass
// starts over. Where it wants BPF and BPF cannot run (root, BTF, Linux
// 5.8+) it reads /proc and says why in model.Model.Note. Where listns(2)
// exists and shows this process every namespace, Auto then adds what the
// pass missed from its list, as Listns does; the model's Source stays the
// pass's.
//
// # The BPF source
//
// One run of iter/task and iter/task_file gives every task (threads,
// kernel threads, and tasks whose /proc links even root may not open) with
// its ten namespaces, every namespace's owner and parent, every nsfs fd,
// and opaque ids of each task's kernel objects (model.Task.Objects). Its
// namespaces are registered without an fd (the registry's "kernel"
// entries): the kernel's structs were read at one instant, so nothing needs
// holding, and the climb skips them since their relatives came with them.
// /proc is read only where the kernel's structs do not answer: each
// namespace's lowest PID's command line and /proc/PID owner (kept only when
// that process's start time is the iterator's, so a reused PID is not
// believed), nsfs bind mounts from one mountinfo per mount namespace, a
// kernel thread's full name and affinity, and the nsid of network
// namespaces, opened through a task seen in them. A namespace that died and
// whose inode was reused between the iterator and those reads is the one
// race this leaves; on 6.18+ the id check in the registry catches it.
//
// # Where the /proc walk finds namespaces
//
// A namespace lives as long as something references it. Proc looks at
// every kind of reference the kernel exposes to user space:
//
//   - process: the /proc/PID/ns/<type> links of each thread-group leader
//     (what lsns(8) reads), plus pid_for_children and time_for_children;
//   - thread: /proc/PID/task/TID/ns of the non-leader threads, read only
//     when the process has more than one (/proc/PID/task has num_threads+2
//     links, which one fstatat tells). A thread can unshare
//     on its own, and util-linux lsns 2.38 does not see such namespaces;
//   - bindmount: nsfs mounts (e.g. /run/netns/NAME from ip-netns(8)), from
//     /proc/PID/mountinfo, read once per distinct mount namespace and
//     opened through /proc/PID/root/<mountpoint> so that the path is
//     resolved in that mount namespace, not in ours;
//   - fd: /proc/PID/fd/N whose link reads like "net:[4026532...]", opened
//     through the fd link itself, or whose link is a path and whose
//     stat(2) shows nsfs's device (an nsfs file opened through a bind
//     mount, such as /run/netns/NAME: "/" once the mount is gone), and
//     /proc/PID/task/TID/fd/N of a thread whose fd table is its own
//     (unshare(CLONE_FILES); kcmp(2) KCMP_FILES tells, one call per
//     thread of a multi-threaded process), since /proc/PID/fd is the
//     leader's table only;
//   - socket: a "socket:[...]" fd whose network namespace is not its
//     table's task's: one that namespace's /proc/PID/net socket lists
//     show is its own (socknet.go), any other is copied with
//     pidfd_getfd(2) and asked with SIOCGSKNS, once per socket inode and
//     pass (prochold.go);
//   - unborn: a pid namespace made by unshare(CLONE_NEWPID) that has no
//     init yet, which pid_for_children hides (ENOENT) and the pidfd ioctl
//     PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE (Linux 6.11) opens;
//   - parent and owner: NS_GET_PARENT (pid namespaces) and NS_GET_USERNS
//     (every type) of each namespace already found, repeated until nothing
//     new turns up (ioctl_ns(2)). On a user namespace both answer its
//     parent, so the climb asks once and sets Parent and Owner alike.
//     Which namespaces are held only that way is decided once both
//     sources are done (registry.hierarchySources), by the same rule for
//     each.
//
// With Options.Tasks the walk also records every task, each thread of
// every process and kernel threads too, with its stat fields and its
// namespace per link; without, it reads stat and cmdline only for each
// namespace's lowest PID, which is all ls shows.
//
// # Identity
//
// Namespace inode numbers are reused as soon as a namespace dies, so an
// inode read with readlink is only a name for "the namespace with this
// inode right now". The first time a pass meets an inode it opens the link,
// checks that the opened nsfs file has that inode, and keeps the fd open
// until the pass ends: from then on no other namespace can get that inode,
// and every later readlink that shows it means the same namespace. The
// namespace itself is identified by NS_GET_ID, which is never reused.
// Opening costs a syscall or three, readlink one, so each namespace is
// opened once and every other reference to it is a readlink.
//
// # Why a directory fd pins a process here
//
// Each process is read through one O_DIRECTORY fd on /proc/PID/ns, with
// readlinkat(2) relative to it, and the rest of /proc/PID (task, fd,
// stat, cmdline, mountinfo, root) through its "..". The proc inodes
// behind that fd and its parent dentry belong to one struct pid: once that
// process is reaped, every lookup under them fails with ESRCH or ENOENT,
// even if the number goes to a new process, whose files live under new
// dentries and inodes. So everything read through one fd describes one
// process, and a process that dies part-way through its links is dropped
// whole (none of its links are counted).
//
// procinfo adds a pidfd to tell "exited" from "never existed" and to check
// liveness after a series of reads. A pass needs neither: a process that
// exits after its links were read was still in those namespaces when they
// were read, and skipping the pidfd (pidfd_open, close, pidfd_send_signal)
// and a separate fd on /proc/PID saves five of the ~20 syscalls a process
// costs, which is most of what a pass does.
//
// Man pages: namespaces(7), ioctl_ns(2), proc_pid_ns(5), proc_pid_mountinfo(5),
// proc_pid_fd(5), ip-netns(8), lsns(8).
package discover
