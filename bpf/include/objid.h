/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ids of a task's kernel objects. No kernel address leaves the
 * kernel: a pointer is sent as its SipHash-2-4 under a 128-bit key that
 * the loader draws at random for each run and never prints. Included once
 * by each program that sends ids (it defines hash_key).
 */
#ifndef NS_OBJID_H
#define NS_OBJID_H

#include "kernel.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* The SipHash key, set by the loader before the program is loaded. */
const volatile u64 hash_key[2] = {};

#define ROTL(x, b) (u64)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                           \
	do {                                                               \
		v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);  \
		v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;                     \
		v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;                     \
		v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);  \
	} while (0)

/* SipHash-2-4 of one 8-byte message; 0 stays 0 (a NULL pointer).
 *
 * A global function, so that the verifier checks it once, on its own,
 * instead of once per call site (a task has nine objects: as a static
 * subprogram it was 5,108 of the 34,708 instructions the verifier walked
 * for the task iterator on 6.18). Global functions (5.6) take scalars. */
__noinline u64 obj_hash(u64 m)
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
 * tracer's fork program 7,000 instructions (56 KB of the object). */
#define obj_id(ptr) obj_hash((u64)(ptr))

/* The objects, in the taskobj.Object order. */
enum { O_NSPROXY, O_FILES, O_FS, O_MM, O_SIGHAND, O_SIGNAL, O_CRED, O_IO, O_SYSVSEM };

/* Sets obj[O_*] to the ids of task t's objects; nsp and cred are its
 * nsproxy and real_cred, read already. */
static __always_inline void task_objs(u64 *obj, struct task_struct *t, struct nsproxy *nsp,
				      const struct cred *cred)
{
	obj[O_NSPROXY] = obj_id(nsp);
	obj[O_FILES] = obj_id(BPF_CORE_READ(t, files));
	obj[O_FS] = obj_id(BPF_CORE_READ(t, fs));
	obj[O_MM] = obj_id(BPF_CORE_READ(t, mm));
	obj[O_SIGHAND] = obj_id(BPF_CORE_READ(t, sighand));
	obj[O_SIGNAL] = obj_id(BPF_CORE_READ(t, signal));
	obj[O_CRED] = obj_id(cred);
	obj[O_IO] = obj_id(BPF_CORE_READ(t, io_context));
	if (bpf_core_field_exists(t->sysvsem))
		obj[O_SYSVSEM] = obj_id(BPF_CORE_READ(t, sysvsem.undo_list));
}

#endif
