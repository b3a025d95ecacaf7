/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The tracer's helpers: object ids, PIDs as nsinspect's pid namespace
 * numbers them, and namespace ids and types. Included by trace.bpf.c after
 * the loader-set constants they read (hash_key, reader_pidns_inum,
 * reader_level).
 */
#ifndef NST_COMMON_H
#define NST_COMMON_H

#define ROTL(x, b) (u64)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                           \
	do {                                                               \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);  \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                     \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                     \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);  \
	} while (0)

/* SipHash-2-4 of one 8-byte message; 0 stays 0 (a NULL pointer). */
static __noinline u64 obj_hash(u64 m)
{
	u64 k0 = hash_key[0], k1 = hash_key[1];
	u64 v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
	u64 v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
	u64 b = 8ULL << 56;

	if (!m)
		return 0;
	v3 ^= m;
	SIPROUND; SIPROUND;
	v0 ^= m;
	v3 ^= b;
	SIPROUND; SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND; SIPROUND; SIPROUND; SIPROUND;
	return (v0 ^ v1 ^ v2 ^ v3) | 1;
}

/* One call, not an inlined copy per object: the hash is ~150
 * instructions and a task has nine objects, so inlining it made the
 * fork program 7,000 instructions (56 KB of the object). A static
 * subprogram with a scalar argument loads on every kernel with BPF
 * calls (4.16). */
#define obj_id(ptr) obj_hash((u64)(ptr))

/* The number of struct pid p in nsinspect's pid namespace, 0 when p is
 * not visible there. The namespace is matched by inode: it is alive (the
 * tracer is in it), so its inode is its own. */
static __always_inline u32 nr_in_reader(struct pid *p)
{
	struct upid up = {};
	unsigned int level = reader_level;

	if (!p || BPF_CORE_READ(p, level) < level)
		return 0;
	bpf_probe_read_kernel(&up, sizeof(up),
			      (void *)p + bpf_core_field_offset(struct pid, numbers) +
				      (u64)level * bpf_core_type_size(struct upid));
	if (!up.ns || BPF_CORE_READ(up.ns, ns.inum) != reader_pidns_inum)
		return 0;
	return up.nr;
}

static __always_inline u32 tgid_of(struct task_struct *t)
{
	return nr_in_reader(BPF_CORE_READ(t, group_leader, thread_pid));
}

/* The pid namespace task t lives in (task_active_pid_ns). */
static __always_inline struct pid_namespace *active_pidns(struct task_struct *t)
{
	struct pid *p = BPF_CORE_READ(t, thread_pid);
	struct upid up = {};
	unsigned int level;

	if (!p)
		return 0;
	level = BPF_CORE_READ(p, level);
	bpf_probe_read_kernel(&up, sizeof(up),
			      (void *)p + bpf_core_field_offset(struct pid, numbers) +
				      (u64)level * bpf_core_type_size(struct upid));
	return up.ns;
}

static __always_inline u64 ns_id(struct ns_common *ns)
{
	if (bpf_core_field_exists(ns->ns_id))
		return BPF_CORE_READ(ns, ns_id);
	return 0;
}

static __always_inline u32 ns_type(struct ns_common *ns)
{
	if (bpf_core_field_exists(ns->ns_type))
		return BPF_CORE_READ(ns, ns_type);
	return BPF_CORE_READ(ns, ops, type);
}

#endif
