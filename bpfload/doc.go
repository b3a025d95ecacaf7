// Package bpfload is what every BPF loader of nsinspect (bpfiter's
// iterators, tracer's programs) asks before and around a load, in one
// place: the privilege to load tracing programs (CAP_BPF and CAP_PERFMON,
// or CAP_SYS_ADMIN: capabilities(7)), the kernel's BTF for CO-RE
// (/sys/kernel/btf/vmlinux), a lockdown mode that allows reading kernel
// memory (kernel_lockdown(7)), and RLIMIT_MEMLOCK where the kernel charges
// BPF memory to it (before Linux 5.11; bpf(2), getrlimit(2)).
//
// It loads nothing itself; each loader keeps its own error kinds.
package bpfload
