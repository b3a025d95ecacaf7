// Package taskobj names the kernel objects a task points to and may share
// with other tasks, as the clone flags decide (clone(2)): its nsproxy,
// files_struct, fs_struct, mm_struct, sighand_struct, signal_struct, cred,
// io_context and SysV semaphore undo list. Both BPF readers of tasks,
// bpfiter's iterators and the tracer, send a keyed hash of each pointer in
// this order (the O_* enum of bpf/include/objid.h), and kcmp(2) compares
// some of the same objects by name.
package taskobj
