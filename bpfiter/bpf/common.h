/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Helpers shared by nsinspect's iterators. */
#ifndef NSI_COMMON_H
#define NSI_COMMON_H

#include "task.h"
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
	read_upid(&up, p, level);
	if (up.ns != ns)
		return 0;
	return up.nr;
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
