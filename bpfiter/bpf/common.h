/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Helpers shared by nsinspect's iterators. */
#ifndef NSI_COMMON_H
#define NSI_COMMON_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "nsi.h"

/*
 * The number of task t's struct pid p in pid namespace ns (at depth
 * level), as task_pid_nr_ns() gives it: 0 when p is not visible there.
 */
static __always_inline u32 pid_nr_in(struct pid *p, struct pid_namespace *ns, unsigned int level)
{
	struct upid up = {};
	unsigned int plevel;

	if (!p)
		return 0;
	plevel = BPF_CORE_READ(p, level);
	if (plevel < level)
		return 0;
	bpf_probe_read_kernel(&up, sizeof(up),
			      (void *)p + bpf_core_field_offset(struct pid, numbers) +
				      (u64)level * bpf_core_type_size(struct upid));
	if (up.ns != ns)
		return 0;
	return up.nr;
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
	bpf_probe_read_kernel(&up, sizeof(up),
			      (void *)p + bpf_core_field_offset(struct pid, numbers) +
				      (u64)*level * bpf_core_type_size(struct upid));
	return up.ns;
}

/* The reading process's pid namespace: numbers are given as seen there. */
struct reader {
	struct pid_namespace *ns;
	unsigned int level;
};

static __always_inline void reader_init(struct reader *r)
{
	r->ns = active_pidns((struct task_struct *)bpf_get_current_task(), &r->level);
}

static __always_inline u32 tgid_in(struct reader *r, struct task_struct *t)
{
	return pid_nr_in(BPF_CORE_READ(t, group_leader, thread_pid), r->ns, r->level);
}

static __always_inline u32 tid_in(struct reader *r, struct task_struct *t)
{
	return pid_nr_in(BPF_CORE_READ(t, thread_pid), r->ns, r->level);
}

#endif
