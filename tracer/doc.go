// Package tracer follows the tasks of a Linux machine as they are made
// and as they change namespaces: every fork, vfork, clone and clone3
// (kernel threads and io_uring and vhost workers included), every
// unshare(2) and every setns(2), with what the task shares before and
// after. It loads BPF programs (bpf/trace.bpf.c) and decodes the events
// they send through a BPF ring buffer.
//
// # Kernel interfaces
//
//   - tp_btf/task_newtask: the end of copy_process(), in the caller's
//     context, with the new task and the clone flags (clone(2), clone3(2)).
//   - tp_btf/sys_enter and tp_btf/sys_exit: the raw syscall tracepoints,
//     for unshare(2) and setns(2). The syscall numbers are this build's
//     (golang.org/x/sys/unix SYS_UNSHARE, SYS_SETNS: 272 and 308 on
//     x86_64, 97 and 268 on arm64); the arguments are read from struct
//     pt_regs through CO-RE flavours of x86_64's and arm64's layouts, so
//     one object serves both architectures. 32-bit (ia32) system calls on
//     x86_64 are skipped: their numbers are another table's.
//   - tp_btf/sys_exit also: a clone, clone3, fork or vfork that returned
//     an error, which made no task for task_newtask to see (SYS_CLONE,
//     SYS_CLONE3 on both; SYS_FORK, SYS_VFORK on x86_64 only). Its first
//     argument is read on return: x86_64's di still holds it, arm64's
//     regs[0] holds the return value and orig_x0 the argument; clone3's
//     flags come from the caller's struct clone_args.
//   - tp_btf/sched_process_exit: a followed process is forgotten when its
//     last thread exits.
//   - BPF_MAP_TYPE_RINGBUF, Linux 5.8: the newest interface used, so 5.8
//     is the minimum; Open refuses older kernels with ErrUnsupported.
//
// Tracepoints, not kprobes or fentry: task_newtask and the raw syscall
// tracepoints exist on every kernel since long before 5.8 and on every
// architecture, while the functions behind clone and unshare
// (kernel_clone, ksys_unshare, __do_sys_setns) were renamed (_do_fork
// before 5.10), may be inlined, and fentry on arm64 needs 6.0.
//
// # Kernel addresses
//
// No pointer leaves the kernel: each object a task points to (nsproxy,
// files_struct, fs_struct, mm_struct, sighand_struct, signal_struct,
// cred, io_context, sem_undo_list) is sent as SipHash-2-4 of the pointer
// under a 128-bit key drawn for each Open and never printed, and Read
// renumbers them 1, 2, ... per kind in the order met. Two equal ids in one
// event are one object. Across events they are one object only while it
// lives: a freed object's memory may be reused and get the same id, unless
// its death was seen: when a task exits, the objects it was the last
// holder of (by their reference counts) are forgotten. Each kind's table
// keeps at most 65,536 ids, the least recently met dropped first, so that
// memory stays bounded in a long watch.
//
// # Lifetime
//
// Nothing is pinned: programs, links and maps live in this process's fds
// and go away when it exits, however it exits (SIGKILL included).
//
// man pages: clone(2), unshare(2), setns(2), namespaces(7), bpf(2).
package tracer
