// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nsinspect's discovery iterators.
 *
 * nsi_tasks (iter/task) visits every task the reading process's pid
 * namespace can see, threads and kernel threads included, and writes one
 * struct nsi_task per task: its ten namespaces (nsproxy's eight pointers,
 * its pid namespace through its struct pid and its user namespace through
 * its cred) and a keyed hash of each kernel object it may share. It writes
 * a struct nsi_ns for every namespace the first time it meets one, and for
 * the owners and parents above it, so that the hierarchy comes out of the
 * same pass.
 *
 * nsi_files (iter/task_file) writes a struct nsi_fd for every open file on
 * nsfs (a namespace held by an fd), once per fd table, and one of kind
 * NSI_REC_SOCK for every socket made in a network namespace other than
 * its task's (struct socket, sock, sock_common: a namespace held by a
 * socket).
 *
 * No kernel address leaves the kernel: object pointers are hashed with
 * SipHash-2-4 under a 128-bit key that the loader draws at random for each
 * run and never prints, and namespaces are named by inode number and id.
 */
#include "common.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Keep the record types in the BTF that bpf2go reads for -type. */
const struct nsi_ns *_nsi_ns __attribute__((unused));
const struct nsi_fd *_nsi_fd __attribute__((unused));

#define NSFS_MAGIC 0x6e736673
#define PF_KTHREAD 0x00200000
#define CLONE_NEWUSER 0x10000000
#define CLONE_NEWPID 0x20000000
#define MAX_DEPTH 33 /* 32 nested user or pid namespaces, plus the initial one */

/* The SipHash key, set by the loader before the program is loaded. */
const volatile u64 hash_key[2] = {};

/*
 * Namespaces each program wrote in this pass: inode -> the seq_num of the
 * object (task or file) whose output wrote it. A hint only: when a map is
 * full a namespace is written again, which the reader tolerates.
 *
 * The seq_num matters because output can be taken back: when one
 * object's records do not fit the seq_file buffer, the kernel drops them
 * and runs the program again for the same object, with the same seq_num,
 * on the next read(2) (bpf_seq_read). A plain "seen" mark would then
 * suppress the records on the second run and lose them; a mark with the
 * marking object's seq_num is honoured only by later objects.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 14);
	__type(key, u32);
	__type(value, u64);
} seen SEC(".maps");

/* The same for nsi_files, which runs at the same time as nsi_tasks. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 14);
	__type(key, u32);
	__type(value, u64);
} file_seen SEC(".maps");

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

/* One BPF subprogram, not an inlined copy per object (a task has nine):
 * it keeps the program and the object small. A static subprogram with a
 * scalar argument loads on every kernel with BPF calls (4.16). */
#define obj_id(ptr) obj_hash((u64)(ptr))

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

static __always_inline u32 user_inum(struct user_namespace *u)
{
	return u ? BPF_CORE_READ(u, ns.inum) : 0;
}

/*
 * The namespace records one task adds, written in one go after its task
 * record. The climbs below are global functions on purpose: the verifier
 * checks a global function once, on its own, instead of once per call
 * site and loop iteration, which keeps loading fast (and far from the
 * verifier's instruction limit) on every kernel.
 */
#define NSI_CHAIN 128
struct chain {
	u32 n;
	u32 lost;  /* records that did not fit: written by a later task */
	u64 seq;   /* meta->seq_num of the object being written */
	u32 files; /* 1 in nsi_files: use file_seen */
	u32 _pad;
	struct nsi_ns rec[NSI_CHAIN];
};

/*
 * The chain, one per CPU and per program: the two iterators run at once
 * (bpfiter reads them in parallel), and a program runs with migration but
 * not preemption disabled, so nsi_files may interrupt nsi_tasks on its CPU.
 * A shared chain lost namespace records that way.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct chain);
} chains SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct chain);
} file_chains SEC(".maps");

/* The chain of the running program: the climbs below are global functions,
 * which before Linux 5.12 may take scalars only (and the context), so they
 * are given `files` (c->files) and look their chain up themselves. */
static __always_inline struct chain *chain_of(u32 files)
{
	u32 zero = 0;

	if (files)
		return bpf_map_lookup_elem(&file_chains, &zero);
	return bpf_map_lookup_elem(&chains, &zero);
}

/* first reports whether inum was not written yet by an earlier object of
 * this program's pass (see seen), and marks it. */
static __always_inline bool first(struct chain *c, u32 inum)
{
	void *m = c->files ? (void *)&file_seen : (void *)&seen;
	u64 *v, seq;
	long err;

	if (!inum)
		return false;
	/* A lookup is inlined by the verifier; most namespaces were seen. */
	v = bpf_map_lookup_elem(m, &inum);
	if (v)
		return *v == c->seq;
	/* Through the stack: 6.1's verifier takes no pointer into a global
	 * function's memory argument as a map value. */
	seq = c->seq;
	err = bpf_map_update_elem(m, &inum, &seq, BPF_NOEXIST);
	return err != -17 /* EEXIST */;
}

/* push appends r, or undoes first() for it when the chain is full, so
 * that a later task writes it. */
static __always_inline bool push(struct chain *c, struct nsi_ns *r)
{
	u32 n = c->n;

	if (n >= NSI_CHAIN) {
		bpf_map_delete_elem(c->files ? (void *)&file_seen : (void *)&seen, &r->inum);
		c->lost++;
		return false;
	}
	c->rec[n] = *r;
	c->n = n + 1;
	return true;
}

/* climb_users adds the user namespace at u and those above it, up to the
 * first one already written. */
__noinline int climb_users(u64 uptr, u32 files)
{
	struct user_namespace *u = (struct user_namespace *)uptr;
	struct chain *c = chain_of(files);

	if (!c)
		return 0;
	for (int i = 0; i < MAX_DEPTH && u; i++) {
		struct nsi_ns r = {.kind = NSI_REC_NS, .type = CLONE_NEWUSER};
		struct user_namespace *parent;

		r.inum = BPF_CORE_READ(u, ns.inum);
		if (!first(c, r.inum))
			return 0;
		parent = BPF_CORE_READ(u, parent);
		r.owner = r.parent = user_inum(parent);
		r.level = BPF_CORE_READ(u, level);
		r.id = ns_id(&u->ns);
		if (!push(c, &r))
			return 0;
		u = parent;
	}
	return 0;
}

/* climb_pids adds the pid namespace at p and those above it, with their
 * owners. */
__noinline int climb_pids(u64 pptr, u32 files)
{
	struct pid_namespace *p = (struct pid_namespace *)pptr;
	struct chain *c = chain_of(files);

	if (!c)
		return 0;
	for (int i = 0; i < MAX_DEPTH && p; i++) {
		struct nsi_ns r = {.kind = NSI_REC_NS, .type = CLONE_NEWPID};
		struct pid_namespace *parent;
		struct user_namespace *owner;

		r.inum = BPF_CORE_READ(p, ns.inum);
		if (!first(c, r.inum))
			return 0;
		parent = BPF_CORE_READ(p, parent);
		owner = BPF_CORE_READ(p, user_ns);
		r.parent = parent ? BPF_CORE_READ(parent, ns.inum) : 0;
		r.owner = user_inum(owner);
		r.level = BPF_CORE_READ(p, level);
		r.id = ns_id(&p->ns);
		if (!push(c, &r))
			return 0;
		climb_users((u64)owner, files);
		p = parent;
	}
	return 0;
}

/* climb_owned adds a namespace of a type without parents (inum, its
 * CLONE_NEW* type and id, and the owner at optr) and its owners. */
__noinline int climb_owned(u32 inum, u32 type, u64 id, u64 optr, u32 files)
{
	struct nsi_ns r = {.kind = NSI_REC_NS, .type = type, .inum = inum, .id = id};
	struct chain *c = chain_of(files);

	if (!c || !first(c, inum))
		return 0;
	r.owner = user_inum((struct user_namespace *)optr);
	if (push(c, &r))
		climb_users(optr, files);
	return 0;
}

static __always_inline void add_users(u64 uptr, struct chain *c)
{
	climb_users(uptr, c->files);
}

static __always_inline void add_pids(u64 pptr, struct chain *c)
{
	climb_pids(pptr, c->files);
}

static __always_inline void add_owned(u32 inum, u32 type, u64 id, u64 optr, struct chain *c)
{
	climb_owned(inum, type, id, optr, c->files);
}

/*
 * Records the namespace at ptr (a struct uts_namespace, net, ...: every
 * such struct has user_ns and ns members) in the task record's slot, and
 * in the chain the first time.
 */
#define NS_SLOT(c, rec, slot, ptr)                                            \
	do {                                                                  \
		typeof(ptr) __p = (ptr);                                      \
		if (!__p)                                                     \
			break;                                                \
		(rec)->ns_inum[slot] = BPF_CORE_READ(__p, ns.inum);           \
		(rec)->ns_id[slot] = ns_id(&__p->ns);                         \
		add_owned((rec)->ns_inum[slot], ns_type(&__p->ns), (rec)->ns_id[slot], \
			  (u64)BPF_CORE_READ(__p, user_ns), c);               \
	} while (0)

/* Writes the chain's records. */
static __always_inline void flush(struct seq_file *seq, struct chain *c)
{
	u32 n = c->n;

	if (n > NSI_CHAIN)
		n = NSI_CHAIN;
	if (n)
		bpf_seq_write(seq, c->rec, n * sizeof(struct nsi_ns));
	c->n = 0;
}

/* The namespaces.Links order: cgroup ipc mnt net pid pid_for_children
 * time time_for_children user uts. */
enum { L_CGROUP, L_IPC, L_MNT, L_NET, L_PID, L_PID4C, L_TIME, L_TIME4C, L_USER, L_UTS };

/* The objects.go order. */
enum { O_NSPROXY, O_FILES, O_FS, O_MM, O_SIGHAND, O_SIGNAL, O_CRED, O_IO, O_SYSVSEM };

/* A task record is too big for the 512-byte stack: one per CPU in a map. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct nsi_task);
} scratch SEC(".maps");

SEC("iter/task")
int nsi_tasks(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *t = ctx->task;
	const struct cred *cred;
	struct nsproxy *nsp;
	struct pid_namespace *pidns;
	struct user_namespace *userns;
	struct nsi_task *r;
	struct chain *c;
	struct reader rd;
	unsigned int level;
	bool unborn = false;
	u32 zero = 0;

	if (!t)
		return 0;
	r = bpf_map_lookup_elem(&scratch, &zero);
	c = bpf_map_lookup_elem(&chains, &zero);
	if (!r || !c)
		return 0;
	c->n = 0;
	c->seq = ctx->meta->seq_num;
	c->files = 0;
	__builtin_memset(r, 0, sizeof(*r));
	reader_init(&rd);
	r->kind = NSI_REC_TASK;
	r->tgid = tgid_in(&rd, t);
	r->tid = tid_in(&rd, t);
	r->ppid = tgid_in(&rd, BPF_CORE_READ(t, real_parent));
	r->flags = BPF_CORE_READ(t, flags);
	if (bpf_core_field_exists(t->__state))
		r->state = BPF_CORE_READ(t, __state);
	else
		r->state = BPF_CORE_READ((struct task_struct___pre514 *)t, state);
	r->exit_state = BPF_CORE_READ(t, exit_state);
	r->start_boottime = BPF_CORE_READ(t, start_boottime);
	BPF_CORE_READ_INTO(&r->comm, t, comm);

	cred = BPF_CORE_READ(t, real_cred);
	r->uid = BPF_CORE_READ(cred, uid.val);
	r->euid = BPF_CORE_READ(cred, euid.val);
	r->suid = BPF_CORE_READ(cred, suid.val);
	r->fsuid = BPF_CORE_READ(cred, fsuid.val);
	r->gid = BPF_CORE_READ(cred, gid.val);
	r->egid = BPF_CORE_READ(cred, egid.val);

	nsp = BPF_CORE_READ(t, nsproxy);
	r->obj[O_NSPROXY] = obj_id(nsp);
	r->obj[O_FILES] = obj_id(BPF_CORE_READ(t, files));
	r->obj[O_FS] = obj_id(BPF_CORE_READ(t, fs));
	r->obj[O_MM] = obj_id(BPF_CORE_READ(t, mm));
	r->obj[O_SIGHAND] = obj_id(BPF_CORE_READ(t, sighand));
	r->obj[O_SIGNAL] = obj_id(BPF_CORE_READ(t, signal));
	r->obj[O_CRED] = obj_id(cred);
	r->obj[O_IO] = obj_id(BPF_CORE_READ(t, io_context));
	if (bpf_core_field_exists(t->sysvsem))
		r->obj[O_SYSVSEM] = obj_id(BPF_CORE_READ(t, sysvsem.undo_list));

	/* A task's own pid namespace hangs off its struct pid, and its user
	 * namespace off its cred: both outlive the nsproxy a zombie drops. */
	pidns = active_pidns(t, &level);
	if (pidns) {
		r->ns_inum[L_PID] = BPF_CORE_READ(pidns, ns.inum);
		r->ns_id[L_PID] = ns_id(&pidns->ns);
		add_pids((u64)pidns, c);
	}
	userns = BPF_CORE_READ(cred, user_ns);
	if (userns) {
		r->ns_inum[L_USER] = BPF_CORE_READ(userns, ns.inum);
		r->ns_id[L_USER] = ns_id(&userns->ns);
		add_users((u64)userns, c);
	}
	if (nsp) {
		struct pid_namespace *p4c = BPF_CORE_READ(nsp, pid_ns_for_children);

		NS_SLOT(c, r, L_CGROUP, BPF_CORE_READ(nsp, cgroup_ns));
		NS_SLOT(c, r, L_IPC, BPF_CORE_READ(nsp, ipc_ns));
		NS_SLOT(c, r, L_MNT, BPF_CORE_READ(nsp, mnt_ns));
		NS_SLOT(c, r, L_NET, BPF_CORE_READ(nsp, net_ns));
		NS_SLOT(c, r, L_UTS, BPF_CORE_READ(nsp, uts_ns));
		if (bpf_core_field_exists(nsp->time_ns)) {
			NS_SLOT(c, r, L_TIME, BPF_CORE_READ(nsp, time_ns));
			NS_SLOT(c, r, L_TIME4C, BPF_CORE_READ(nsp, time_ns_for_children));
		}
		if (p4c) {
			r->ns_inum[L_PID4C] = BPF_CORE_READ(p4c, ns.inum);
			r->ns_id[L_PID4C] = ns_id(&p4c->ns);
			add_pids((u64)p4c, c);
			/* A pid namespace made by unshare(CLONE_NEWPID) has no
			 * child_reaper until its first task, its init, exists;
			 * until then /proc/PID/ns/pid_for_children answers
			 * ENOENT (pidns_for_children_get). Said apart, after
			 * the task record, so that the reader can tell. */
			unborn = !BPF_CORE_READ(p4c, child_reaper);
		}
	}
	flush(seq, c);
	bpf_seq_write(seq, r, sizeof(*r));
	if (unborn) {
		struct nsi_fd u = {.kind = NSI_REC_UNBORN, .tgid = r->tgid, .tid = r->tid,
				   .type = CLONE_NEWPID, .inum = r->ns_inum[L_PID4C], .id = r->ns_id[L_PID4C]};

		bpf_seq_write(seq, &u, sizeof(u));
	}
	return 0;
}

#define CLONE_NEWNS 0x00020000
#define CLONE_NEWCGROUP 0x02000000
#define CLONE_NEWUTS 0x04000000
#define CLONE_NEWIPC 0x08000000
#define CLONE_NEWNET 0x40000000
#define CLONE_NEWTIME 0x00000080

/* The struct of type T around its member ns at n (container_of, with the
 * member's offset relocated for the running kernel). */
#define OUTER(T, n) ((T *)((void *)(n) - bpf_core_field_offset(T, ns)))

/* A namespace only an fd may hold: add it and its owners the first time. */
static __always_inline void add_held(struct chain *c, struct ns_common *ns, u32 type, u32 inum, u64 id)
{
	u64 owner;

	switch (type) {
	case CLONE_NEWUSER:
		add_users((u64)OUTER(struct user_namespace, ns), c);
		return;
	case CLONE_NEWPID:
		add_pids((u64)OUTER(struct pid_namespace, ns), c);
		return;
	case CLONE_NEWNS:
		owner = (u64)BPF_CORE_READ(OUTER(struct mnt_namespace, ns), user_ns);
		break;
	case CLONE_NEWCGROUP:
		owner = (u64)BPF_CORE_READ(OUTER(struct cgroup_namespace, ns), user_ns);
		break;
	case CLONE_NEWUTS:
		owner = (u64)BPF_CORE_READ(OUTER(struct uts_namespace, ns), user_ns);
		break;
	case CLONE_NEWIPC:
		owner = (u64)BPF_CORE_READ(OUTER(struct ipc_namespace, ns), user_ns);
		break;
	case CLONE_NEWNET:
		owner = (u64)BPF_CORE_READ(OUTER(struct net, ns), user_ns);
		break;
	case CLONE_NEWTIME:
		owner = (u64)BPF_CORE_READ(OUTER(struct time_namespace, ns), user_ns);
		break;
	default:
		return;
	}
	add_owned(inum, type, id, owner, c);
}

#define SOCKFS_MAGIC 0x534F434B

/*
 * The network namespace of the socket file f when it is not the one task
 * t is in, else NULL. Every file on sockfs is a socket opened by
 * sock_alloc_file, whose private_data is its struct socket (sock_from_file
 * tests f_op for the same); read through CO-RE, not bpf_sock_from_file,
 * which is 5.11+.
 */
static __always_inline struct net *foreign_net(struct task_struct *t, struct file *f)
{
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct nsproxy *nsp = BPF_CORE_READ(t, nsproxy);
	struct net *net;

	if (!sock || !nsp)
		return 0;
	net = BPF_CORE_READ(sock, sk, __sk_common.skc_net.net);
	if (!net || net == BPF_CORE_READ(nsp, net_ns))
		return 0;
	return net;
}

SEC("iter/task_file")
int nsi_files(struct bpf_iter__task_file *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *t = ctx->task;
	struct file *f = ctx->file;
	struct nsi_fd r = {.kind = NSI_REC_FD};
	struct ns_common *ns;
	struct chain *c;
	u32 zero = 0;
	struct inode *ino;
	struct reader rd;
	struct net *net;
	unsigned long magic;

	if (!t || !f)
		return 0;
	c = bpf_map_lookup_elem(&file_chains, &zero);
	if (!c)
		return 0;
	ino = BPF_CORE_READ(f, f_inode);
	magic = BPF_CORE_READ(ino, i_sb, s_magic);
	if (magic == SOCKFS_MAGIC) {
		net = foreign_net(t, f);
		if (!net)
			return 0;
		r.kind = NSI_REC_SOCK;
		ns = &net->ns;
	} else if (magic == NSFS_MAGIC) {
		/* An nsfs inode's i_private is its struct ns_common (get_proc_ns). */
		ns = BPF_CORE_READ(ino, i_private);
	} else {
		return 0;
	}
	reader_init(&rd);
	r.tgid = tgid_in(&rd, t);
	r.tid = tid_in(&rd, t);
	r.fd = ctx->fd;
	r.type = ns_type(ns);
	r.inum = BPF_CORE_READ(ns, inum);
	r.id = ns_id(ns);
	c->n = 0;
	c->seq = ctx->meta->seq_num;
	c->files = 1;
	add_held(c, ns, r.type, r.inum, r.id);
	flush(seq, c);
	bpf_seq_write(seq, &r, sizeof(r));
	return 0;
}
