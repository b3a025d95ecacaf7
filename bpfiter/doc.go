// Package bpfiter runs nsinspect's BPF iterators and decodes what they
// write. It is the only package that loads BPF.
//
// Two programs in bpf/tasks.bpf.c give discovery the kernel's own view in
// one pass: nsi_tasks (iter/task) writes one record per task (threads and
// kernel threads included) with its ten namespaces, read from nsproxy, its
// struct pid and its cred, and nsi_files (iter/task_file) one per open nsfs
// file. Each namespace is written once, with its owner and parent, so the
// hierarchy comes from the same instant. bpf/fdwalk.bpf.c is the course
// notes' gdb walk of task->files->fdt->fd[i] done live (WalkFDs).
//
// # Portability
//
// The programs are CO-RE: ../bpf/include/kernel.h, shared with the
// tracer, declares only the members read, with preserve_access_index,
// and cilium/ebpf relocates each access against the running kernel's BTF
// at load time. Members that moved or appeared
// (ns_common.ns_type and ns_id in 6.18, time namespaces) are read behind
// bpf_core_field_exists. The objects are built by bpf2go (gen.go) and
// committed, so building needs no clang; they are the same for amd64 and
// arm64 (bpfel).
//
// What a loop does per iteration is a call of a global BPF function,
// which the verifier checks once, on its own, instead of once per call
// site and loop iteration; the verifier's walk is most of a one-shot
// load. On 6.18 the task program needed 917k of the verifier's 1M
// instructions with the hierarchy climbs as inlined loops (0.3 s to
// load), 34,708 with the climbs global but looping around each level's
// work (about 19 ms), and 2,953 with each level a global call (about 3
// ms); TestVerifierWork bounds each program's count on every kernel.
//
// # Kernel addresses
//
// No pointer leaves the kernel. A task's kernel objects (nsproxy,
// files_struct, fs_struct, mm_struct, sighand, signal, cred, io_context,
// SysV undo list) are written as SipHash-2-4 of the pointer under a
// 128-bit key drawn from crypto/rand for each Load and never printed, and
// Snapshot then renumbers them 1, 2, ... per kind in the order met, so ids
// are equal exactly when the pointers were equal within one snapshot and
// mean nothing outside it. Namespaces are named by inode and id.
//
// # Lifetime
//
// Nothing is pinned in bpffs: programs, maps and iterator links live in
// this process's fds, so they go when it exits, however it exits.
//
// # Requirements
//
// Loading needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN), kernel BTF
// (/sys/kernel/btf/vmlinux), a lockdown mode other than confidentiality,
// and iterators (Linux 5.8+; task_file of a single task is not needed).
// Each failure wraps ErrUnavailable with the reason.
package bpfiter
