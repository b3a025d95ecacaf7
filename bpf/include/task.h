/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What nsinspect's BPF programs (bpfiter's iterators, the tracer) do alike
 * with a task: the namespaces.Links order of its namespaces, a namespace's
 * id and CLONE_NEW* type, the pid namespace it lives in, and the
 * one-element maps that hold a record too big for the stack.
 */
#ifndef NS_TASK_H
#define NS_TASK_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* The namespaces.Links order: cgroup ipc mnt net pid pid_for_children
 * time time_for_children user uts. */
enum { L_CGROUP, L_IPC, L_MNT, L_NET, L_PID, L_PID4C, L_TIME, L_TIME4C, L_USER, L_UTS };

/* The type of a map of one element of type T, keyed by 0: a record too big
 * for the 512-byte stack (per CPU), or the loader's input. */
#define ONE_ELEM_MAP(map_type, T)             \
	struct {                              \
		__uint(type, map_type);       \
		__uint(max_entries, 1);       \
		__type(key, u32);             \
		__type(value, T);             \
	}

/* The namespace's id, 0 where struct ns_common has none (before 6.18). */
static __always_inline u64 ns_id(struct ns_common *ns)
{
	if (bpf_core_field_exists(ns->ns_id))
		return BPF_CORE_READ(ns, ns_id);
	return 0;
}

/* The namespace's CLONE_NEW* type: ns_common's own since 6.18, its
 * operations' before. */
static __always_inline u32 ns_type(struct ns_common *ns)
{
	if (bpf_core_field_exists(ns->ns_type))
		return BPF_CORE_READ(ns, ns_type);
	return BPF_CORE_READ(ns, ops, type);
}

/* Reads p->numbers[level] into up, with the running kernel's offsets
 * (numbers is a flexible array). The caller checks level <= p->level. */
static __always_inline void read_upid(struct upid *up, struct pid *p, unsigned int level)
{
	bpf_probe_read_kernel(up, sizeof(*up),
			      (void *)p + bpf_core_field_offset(struct pid, numbers) +
				      (u64)level * bpf_core_type_size(struct upid));
}

/* The pid namespace task t lives in (task_active_pid_ns), and its depth. */
static __always_inline struct pid_namespace *active_pidns(struct task_struct *t, unsigned int *level)
{
	struct pid *p = BPF_CORE_READ(t, thread_pid);
	struct upid up = {};

	*level = 0;
	if (!p)
		return 0;
	*level = BPF_CORE_READ(p, level);
	read_upid(&up, p, *level);
	return up.ns;
}

/* Sets slot of rec's ns_inum and ns_id to the namespace at p (a struct
 * uts_namespace, net, pid_namespace, ...: each has an ns member). */
#define NS_REF(rec, slot, p)                                   \
	do {                                                   \
		(rec)->ns_inum[slot] = BPF_CORE_READ(p, ns.inum); \
		(rec)->ns_id[slot] = ns_id(&(p)->ns);          \
	} while (0)

/* SLOT(args..., slot, ptr) for each namespace of nsproxy nsp that has an
 * owner and no parent: cgroup, ipc, mnt, net, uts and, where the kernel
 * has time namespaces (5.6+), time and time_for_children. */
#define FOR_OWNED_NS(nsp, SLOT, ...)                                                 \
	do {                                                                         \
		SLOT(__VA_ARGS__, L_CGROUP, BPF_CORE_READ(nsp, cgroup_ns));          \
		SLOT(__VA_ARGS__, L_IPC, BPF_CORE_READ(nsp, ipc_ns));                \
		SLOT(__VA_ARGS__, L_MNT, BPF_CORE_READ(nsp, mnt_ns));                \
		SLOT(__VA_ARGS__, L_NET, BPF_CORE_READ(nsp, net_ns));                \
		SLOT(__VA_ARGS__, L_UTS, BPF_CORE_READ(nsp, uts_ns));                \
		if (bpf_core_field_exists(nsp->time_ns)) {                           \
			SLOT(__VA_ARGS__, L_TIME, BPF_CORE_READ(nsp, time_ns));      \
			SLOT(__VA_ARGS__, L_TIME4C, BPF_CORE_READ(nsp, time_ns_for_children)); \
		}                                                                    \
	} while (0)

#endif
