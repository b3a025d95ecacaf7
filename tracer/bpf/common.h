/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The tracer's helpers: PIDs as nsinspect's pid namespace numbers them.
 * Included by trace.bpf.c after the loader-set constants they read
 * (reader_pidns_inum, reader_level).
 */
#ifndef NST_COMMON_H
#define NST_COMMON_H

/* The number of struct pid p in nsinspect's pid namespace, 0 when p is
 * not visible there. The namespace is matched by inode: it is alive (the
 * tracer is in it), so its inode is its own. */
static __always_inline u32 nr_in_reader(struct pid *p)
{
	struct upid up = {};
	unsigned int level = reader_level;

	if (!p || BPF_CORE_READ(p, level) < level)
		return 0;
	read_upid(&up, p, level);
	if (!up.ns || BPF_CORE_READ(up.ns, ns.inum) != reader_pidns_inum)
		return 0;
	return up.nr;
}

static __always_inline u32 tgid_of(struct task_struct *t)
{
	return nr_in_reader(BPF_CORE_READ(t, group_leader, thread_pid));
}

#endif
