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
#include "objid.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Keep the record types in the BTF that bpf2go reads for -type. */
const struct nsi_ns *_nsi_ns __attribute__((unused));
const struct nsi_fd *_nsi_fd __attribute__((unused));

#define MAX_DEPTH 33 /* 32 nested user or pid namespaces, plus the initial one */

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
struct seen_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 1 << 14);
	__type(key, u32);
	__type(value, u64);
};

/* seen is nsi_tasks', file_seen nsi_files': the two run at the same time. */
struct seen_map seen SEC(".maps");
struct seen_map file_seen SEC(".maps");

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
 * The chains, one per CPU and per program (key 0 nsi_tasks', key 1
 * nsi_files'): the two iterators run at once (bpfiter reads them in
 * parallel), and a program runs with migration but not preemption
 * disabled, so nsi_files may interrupt nsi_tasks on its CPU. A shared
 * chain lost namespace records that way. One map, not two: a pointer into
 * either of two maps is two states to the verifier, which then walked
 * every climb below twice (62,165 instructions for nsi_tasks, 35,230
 * with one map of pointer arguments before 5.10's scalar-only climbs).
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, struct chain);
} chains SEC(".maps");

/* The chain of the running program: the climbs below are global functions,
 * which before Linux 5.12 may take scalars only (and the context), so they
 * are given `files` (c->files) and look their chain up themselves. */
static __always_inline struct chain *chain_of(u32 files)
{
	u32 key = files ? 1 : 0;

	return bpf_map_lookup_elem(&chains, &key);
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

/*
 * The climbs go one level per call of a global function, looped by
 * another: the verifier walks a bounded loop once per iteration, so a
 * loop of 33 levels around the level's work made it walk that work 33
 * times (26,525 of the 34,708 instructions it processed for nsi_tasks on
 * 6.18, about 15 ms of each load); around a call of a global function,
 * which it checks once, each iteration is a few instructions.
 */

/* climb_user adds the user namespace at uptr the first time and returns
 * its parent, or 0 where the climb stops (written already, the initial
 * one's parent, or a full chain). */
__noinline u64 climb_user(u64 uptr, u32 files)
{
	struct user_namespace *u = (struct user_namespace *)uptr;
	struct nsi_ns r = {.kind = NSI_REC_NS, .type = CLONE_NEWUSER};
	struct chain *c = chain_of(files);
	struct user_namespace *parent;

	if (!c || !u)
		return 0;
	r.inum = BPF_CORE_READ(u, ns.inum);
	if (!first(c, r.inum))
		return 0;
	parent = BPF_CORE_READ(u, parent);
	r.owner = r.parent = user_inum(parent);
	r.level = BPF_CORE_READ(u, level);
	r.id = ns_id(&u->ns);
	if (!push(c, &r))
		return 0;
	return (u64)parent;
}

/* climb_users adds the user namespace at uptr and those above it, up to
 * the first one already written. */
__noinline int climb_users(u64 uptr, u32 files)
{
	for (int i = 0; i < MAX_DEPTH && uptr; i++)
		uptr = climb_user(uptr, files);
	return 0;
}

/* climb_pid adds the pid namespace at pptr the first time, with its
 * owners, and returns its parent, or 0 where the climb stops. */
__noinline u64 climb_pid(u64 pptr, u32 files)
{
	struct pid_namespace *p = (struct pid_namespace *)pptr;
	struct nsi_ns r = {.kind = NSI_REC_NS, .type = CLONE_NEWPID};
	struct chain *c = chain_of(files);
	struct pid_namespace *parent;
	struct user_namespace *owner;

	if (!c || !p)
		return 0;
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
	return (u64)parent;
}

/* climb_pids adds the pid namespace at pptr and those above it, with
 * their owners. */
__noinline int climb_pids(u64 pptr, u32 files)
{
	for (int i = 0; i < MAX_DEPTH && pptr; i++)
		pptr = climb_pid(pptr, files);
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

/*
 * Records the namespace at ptr (a struct uts_namespace, net, ...: every
 * such struct has user_ns and ns members) in the task record's slot, and
 * in the chain the first time.
 */
#define NS_SLOT(c, rec, slot, ptr)                                                   \
	do {                                                                         \
		typeof(ptr) __p = (ptr);                                             \
		if (!__p)                                                            \
			break;                                                       \
		NS_REF(rec, slot, __p);                                              \
		climb_owned((rec)->ns_inum[slot], ns_type(&__p->ns), (rec)->ns_id[slot], \
			    (u64)BPF_CORE_READ(__p, user_ns), (c)->files);           \
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

/* A task record is too big for the 512-byte stack: one per CPU in a map. */
ONE_ELEM_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, struct nsi_task) scratch SEC(".maps");

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
	c = chain_of(0);
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
	task_objs(r->obj, t, nsp, cred);

	/* A task's own pid namespace hangs off its struct pid, and its user
	 * namespace off its cred: both outlive the nsproxy a zombie drops. */
	pidns = active_pidns(t, &level);
	if (pidns) {
		NS_REF(r, L_PID, pidns);
		climb_pids((u64)pidns, c->files);
	}
	userns = BPF_CORE_READ(cred, user_ns);
	if (userns) {
		NS_REF(r, L_USER, userns);
		climb_users((u64)userns, c->files);
	}
	if (nsp) {
		struct pid_namespace *p4c = BPF_CORE_READ(nsp, pid_ns_for_children);

		FOR_OWNED_NS(nsp, NS_SLOT, c, r);
		if (p4c) {
			NS_REF(r, L_PID4C, p4c);
			climb_pids((u64)p4c, c->files);
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

/* The struct of type T around its member ns at n (container_of, with the
 * member's offset relocated for the running kernel). */
#define OUTER(T, n) ((T *)((void *)(n) - bpf_core_field_offset(T, ns)))

/* case flag: owner is the user_ns of the struct T around ns. */
#define OWNER_CASE(flag, T)                                         \
	case flag:                                                  \
		owner = (u64)BPF_CORE_READ(OUTER(T, ns), user_ns);  \
		break

/* A namespace only an fd may hold: add it and its owners the first time. */
static __always_inline void add_held(struct chain *c, struct ns_common *ns, u32 type, u32 inum, u64 id)
{
	u64 owner;

	switch (type) {
	case CLONE_NEWUSER:
		climb_users((u64)OUTER(struct user_namespace, ns), c->files);
		return;
	case CLONE_NEWPID:
		climb_pids((u64)OUTER(struct pid_namespace, ns), c->files);
		return;
	OWNER_CASE(CLONE_NEWNS, struct mnt_namespace);
	OWNER_CASE(CLONE_NEWCGROUP, struct cgroup_namespace);
	OWNER_CASE(CLONE_NEWUTS, struct uts_namespace);
	OWNER_CASE(CLONE_NEWIPC, struct ipc_namespace);
	OWNER_CASE(CLONE_NEWNET, struct net);
	OWNER_CASE(CLONE_NEWTIME, struct time_namespace);
	default:
		return;
	}
	climb_owned(inum, type, id, owner, c->files);
}

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
	struct inode *ino;
	struct reader rd;
	struct net *net;
	unsigned long magic;

	if (!t || !f)
		return 0;
	c = chain_of(1);
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
