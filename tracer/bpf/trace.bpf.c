// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * nsinspect's tracer: every new task, unshare(2) and setns(2), with what
 * the task shares before and after.
 *
 * nst_newtask (tp_btf/task_newtask) runs at the end of copy_process(), in
 * the caller's context, after the child has been given (or has shared)
 * every resource, and with the clone flags as kernel_clone() got them. It
 * sends the caller and the child side by side: task_struct's nsproxy
 * members, cred->user_ns, the active pid namespace (thread_pid), files,
 * fs, mm, sighand, signal, real_cred, io_context and sysvsem.undo_list.
 * One tracepoint covers fork, vfork, clone, clone3, kernel threads and
 * io_uring and vhost workers, on every architecture.
 *
 * on_enter and on_exit snapshot the caller of unshare(2) and setns(2) on
 * entry and again on return, and send both with the return value. They
 * run from fentry and fexit programs on those system calls' functions
 * (nst_in_*, nst_out_*) where the kernel has BPF trampolines, and from
 * the raw syscall tracepoints (nst_sys_enter, nst_sys_exit) where it has
 * not: the loader picks one set. The syscall numbers are set by the
 * loader for the architecture; the arguments are read from struct
 * pt_regs through two CO-RE flavours (x86_64's di/si/orig_ax, arm64's
 * regs[]/syscallno), so one object serves both.
 *
 * on_exit also sends a clone, clone3, fork or vfork that returned an
 * error (NST_FORK_FAILED): the caller, the errno and the flags asked for,
 * which task_newtask never sees because no task was made. A call the
 * kernel restarts (-ERESTARTNOINTR when a signal came during the fork)
 * is not a failure the caller sees, and is not sent.
 *
 * nst_exec (tp_btf/sched_process_exec) sends an exec that succeeded: the
 * caller as nst_sys_enter saw it entering execve or execveat, and as it
 * is once the new program is in place (begin_new_exec() has replaced the
 * mm and the cred, and unshared files and sighand where they were
 * shared). A thread other than the leader that execs takes the leader's
 * pid (de_thread()): the tracepoint's old_pid is the id it entered with.
 * An exec that fails sends nothing (a shell's PATH search fails at every
 * directory but one); its pending entry is dropped at sys_exit.
 *
 * nst_exit (tp_btf/sched_process_exit) forgets a followed process when its
 * last thread exits, and sends (struct nst_exited) that and the objects the
 * exiting task was the last holder of, read from their reference counts,
 * so that the reader forgets their ids.
 *
 * nst_free_inum (a kprobe on proc_free_inum(), loaded only where the
 * kernel takes kprobes) sends every proc inode number freed. Every
 * namespace type's free ends there (ns_free_inum(), or __ns_common_free()
 * from 6.18), in whatever context frees it (a kworker for net and user
 * namespaces); so do /proc entries'. The reader keeps the numbers it has
 * seen as namespaces and reports their deaths; the rest it drops. There
 * is no tracepoint on that path, and the per-type free functions are
 * static and often inlined.
 *
 * No kernel address leaves the kernel: object pointers are sent as
 * SipHash-2-4 under a key the loader draws at random for each run, and
 * namespaces by inode number and id.
 */
#include "task.h"
#include "objid.h"
#include "nst.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const struct nst_event *_nst_event __attribute__((unused));
const struct nst_exited *_nst_exited __attribute__((unused));
const struct nst_inum_freed *_nst_inum_freed __attribute__((unused));

#define TS_COMPAT 0x0002

/* Set by the loader before the program is loaded, with hash_key. */
const volatile u32 follow = 0;		   /* trace: only the followed processes */
const volatile u32 tracer_tgid = 0;	   /* nsinspect itself, in its own pid namespace */
const volatile u32 reader_pidns_inum = 0; /* nsinspect's pid namespace ... */
const volatile u32 reader_level = 0;	   /* ... and its depth */
const volatile s64 nr_unshare = -1;	   /* this architecture's syscall numbers, */
const volatile s64 nr_setns = -1;
const volatile s64 nr_clone = -1;
const volatile s64 nr_clone3 = -1;
const volatile s64 nr_fork = -1;	   /* -1 where there is none (arm64) */
const volatile s64 nr_vfork = -1;
const volatile s64 nr_execve = -1;
const volatile s64 nr_execveat = -1;

#include "common.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} events SEC(".maps");

/* Records that found the ring buffer full: [LOST_EVENTS] events,
 * [LOST_EXITS] exit records (not events: what they would have said is
 * which ids to forget and that a followed process ended); and
 * [LOST_FOLLOW] processes trace could not add to the followed set (the
 * map's update failed: full, or -EBUSY when its bucket lock was held on
 * this CPU), whose events would then be missing. */
enum { LOST_EVENTS, LOST_EXITS, LOST_FOLLOW, LOST_SLOTS };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOST_SLOTS);
	__type(key, u32);
	__type(value, u64);
} lost SEC(".maps");

/* The tracer's own unshare(0) after it attached the system call
 * programs, per CPU: [SEEN_ENTER] the entry program saw it, [SEEN_EXIT]
 * the return program did (Tracer.verifyCalls). */
enum { SEEN_ENTER, SEEN_EXIT, SEEN_SLOTS };
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SEEN_SLOTS);
	__type(key, u32);
	__type(value, u64);
} seen SEC(".maps");

/* trace: the processes followed (tgids in nsinspect's pid namespace). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, u32);
	__type(value, u8);
} followed SEC(".maps");

/* unshare, setns and exec calls under way, by bpf_get_current_pid_tgid(). LRU:
 * an entry whose task died inside the call is pushed out in time. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 12);
	__type(key, u64);
	__type(value, struct nst_event);
} pending SEC(".maps");

/* An event is too big for the 512-byte stack: one per CPU. */
ONE_ELEM_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, struct nst_event) scratch SEC(".maps");
ONE_ELEM_MAP(BPF_MAP_TYPE_PERCPU_ARRAY, struct nst_exited) exit_scratch SEC(".maps");

static __always_inline void lose_slot(u32 slot)
{
	u64 *n = bpf_map_lookup_elem(&lost, &slot);

	if (n)
		(*n)++;
}

static __always_inline void lose(void) { lose_slot(LOST_EVENTS); }

/* own_probe reports whether system call id of cur is the tracer's own
 * unshare, and marks it seen in slot if so. */
static __always_inline bool own_probe(struct task_struct *cur, s64 id, u32 slot)
{
	u64 *n;

	if (id != nr_unshare || tgid_of(cur) != tracer_tgid)
		return false;
	n = bpf_map_lookup_elem(&seen, &slot);
	if (n)
		*n = 1;
	return true;
}

/* Records the namespace at ptr, if any, in r's slot. */
#define NS_SLOT(r, slot, ptr)              \
	do {                               \
		typeof(ptr) __p = (ptr);   \
		if (__p)                   \
			NS_REF(r, slot, __p); \
	} while (0)

/* fill records task t as it is now. A static subprogram, not inlined:
 * five call sites (the fork's two tasks, unshare and setns before and
 * after, a failed fork's caller) made the object 108 KB inlined, 64 KB
 * called, and the verifier walks it per call site either way. */
static __noinline void fill(struct nst_task *r, struct task_struct *t)
{
	const struct cred *cred = BPF_CORE_READ(t, real_cred);
	struct nsproxy *nsp = BPF_CORE_READ(t, nsproxy);
	unsigned int level;

	r->tgid = tgid_of(t);
	r->tid = nr_in_reader(BPF_CORE_READ(t, thread_pid));
	r->flags = BPF_CORE_READ(t, flags);
	r->threads = BPF_CORE_READ(t, signal, nr_threads);
	BPF_CORE_READ_INTO(&r->comm, t, comm);

	task_objs(r->obj, t, nsp, cred);

	NS_SLOT(r, L_PID, active_pidns(t, &level));
	NS_SLOT(r, L_USER, BPF_CORE_READ(cred, user_ns));
	if (!nsp)
		return;
	NS_SLOT(r, L_PID4C, BPF_CORE_READ(nsp, pid_ns_for_children));
	FOR_OWNED_NS(nsp, NS_SLOT, r);
}

static __always_inline bool is_followed(u32 tgid)
{
	return bpf_map_lookup_elem(&followed, &tgid) != 0;
}

static __always_inline void add_followed(u32 tgid)
{
	u8 one = 1;

	if (tgid && bpf_map_update_elem(&followed, &tgid, &one, BPF_ANY))
		lose_slot(LOST_FOLLOW);
}

/* The PF_USER_WORKER bit, where the kernel has one (6.4+, which added
 * kernel_clone_args.user_worker with it; the bit meant PF_USED_ASYNC
 * before). */
static __always_inline u32 user_worker_flag(void)
{
	struct kernel_clone_args *a = 0;

	return bpf_core_field_exists(a->user_worker) ? PF_USER_WORKER : 0;
}

SEC("tp_btf/task_newtask")
int nst_newtask(u64 *ctx)
{
	struct task_struct *child = (struct task_struct *)ctx[0];
	u64 flags = ctx[1];
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	struct nst_event *e;
	u32 caller = tgid_of(cur);

	if (!caller)
		return 0;
	if (caller == tracer_tgid) {
		/* nsinspect starting the traced command: follow it, and
		 * report neither that nor nsinspect's own threads. */
		if (follow && !(flags & CLONE_THREAD))
			add_followed(tgid_of(child));
		return 0;
	}
	if (follow) {
		if (!is_followed(caller))
			return 0;
		if (!(flags & CLONE_THREAD))
			add_followed(tgid_of(child));
	}
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		lose();
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = NST_FORK;
	e->user_worker_flag = user_worker_flag();
	e->ktime = bpf_ktime_get_boot_ns();
	e->flags = flags;
	e->exit_signal = BPF_CORE_READ(child, exit_signal);
	fill(&e->a, cur);
	fill(&e->b, child);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* The low 32 bits of the reference count at offset off of object p. */
static __always_inline int count_at(const void *p, u32 off)
{
	int v = -1;

	if (p)
		bpf_probe_read_kernel(&v, sizeof(v), (const void *)p + off);
	return v;
}

#define COUNT(p, member) count_at(p, bpf_core_field_offset(typeof(*(p)), member))

/* freed records in x->freed the objects that exiting task t is the last
 * holder of: they die with it (after this tracepoint, in do_exit() or at
 * its release), and their memory may then hold another object. */
static __always_inline bool freed(struct nst_exited *x, struct task_struct *t, bool last)
{
	struct files_struct *files = BPF_CORE_READ(t, files);
	struct fs_struct *fs = BPF_CORE_READ(t, fs);
	struct nsproxy *nsp = BPF_CORE_READ(t, nsproxy);
	struct sighand_struct *sh = BPF_CORE_READ(t, sighand);
	const struct cred *cred = BPF_CORE_READ(t, real_cred);
	struct io_context *ioc = BPF_CORE_READ(t, io_context);
	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	bool any = false;

	if (files && COUNT(files, count) == 1)
		x->freed[O_FILES] = obj_id(files);
	if (fs && COUNT(fs, users) == 1)
		x->freed[O_FS] = obj_id(fs);
	if (nsp && COUNT(nsp, count) == 1)
		x->freed[O_NSPROXY] = obj_id(nsp);
	if (ioc && COUNT(ioc, active_ref) == 1)
		x->freed[O_IO] = obj_id(ioc);
	if (bpf_core_field_exists(t->sysvsem)) {
		struct sem_undo_list *u = BPF_CORE_READ(t, sysvsem.undo_list);

		if (u && COUNT(u, refcnt) == 1)
			x->freed[O_SYSVSEM] = obj_id(u);
	}
	/* Where exit_mm() ran before this tracepoint, mm is NULL and
	 * active_mm still points to the old one (a lazy reference keeps the
	 * struct): no user left means it died. Kernel threads borrow
	 * theirs. */
	if (mm) {
		if (COUNT(mm, mm_users) == 1)
			x->freed[O_MM] = obj_id(mm);
	} else if (!(BPF_CORE_READ(t, flags) & PF_KTHREAD)) {
		mm = BPF_CORE_READ(t, active_mm);
		if (mm && COUNT(mm, mm_users) == 0)
			x->freed[O_MM] = obj_id(mm);
	}
	/* A task holds two references to its cred (cred and real_cred). */
	if (cred && cred == BPF_CORE_READ(t, cred) && COUNT(cred, usage) == 2)
		x->freed[O_CRED] = obj_id(cred);
	if (last) {
		x->freed[O_SIGNAL] = obj_id(BPF_CORE_READ(t, signal));
		if (sh && COUNT(sh, count) == 1)
			x->freed[O_SIGHAND] = obj_id(sh);
	}
	for (int i = 0; i < NST_NOBJS; i++)
		any = any || x->freed[i];
	return any;
}

SEC("tp_btf/sched_process_exit")
int nst_exit(u64 *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx[0];
	bool last = BPF_CORE_READ(t, signal, live.counter) == 0;
	u32 tgid = tgid_of(t);
	bool ended = false;
	struct nst_exited *x;
	u32 zero = 0;

	if (!tgid || tgid == tracer_tgid)
		return 0;
	if (follow) {
		if (!is_followed(tgid))
			return 0;
		/* The last thread of a followed process: forget it. */
		ended = last && bpf_map_delete_elem(&followed, &tgid) == 0;
	}
	x = bpf_map_lookup_elem(&exit_scratch, &zero);
	if (!x)
		return 0;
	__builtin_memset(x, 0, sizeof(*x));
	if (!freed(x, t, last) && !ended)
		return 0;
	x->kind = NST_EXIT;
	x->followed = ended;
	x->tgid = tgid;
	x->tid = nr_in_reader(BPF_CORE_READ(t, thread_pid));
	/* do_exit() sets exit_code before this tracepoint; a thread that a
	 * group exit or a fatal signal ended has the group's. */
	x->exit_code = BPF_CORE_READ(t, exit_code);
	x->ktime = bpf_ktime_get_boot_ns();
	BPF_CORE_READ_INTO(&x->comm, t, comm);
	if (bpf_ringbuf_output(&events, x, sizeof(*x), 0))
		lose_slot(LOST_EXITS);
	return 0;
}

/* Whether t is inside a 32-bit system call (x86's ia32 emulation), whose
 * numbers are another table's. */
static __always_inline bool compat(struct task_struct *t)
{
	struct thread_info___x86 *ti = (void *)&t->thread_info;

	if (bpf_core_field_exists(ti->status))
		return BPF_CORE_READ(ti, status) & TS_COMPAT;
	return false;
}

/* System call argument n (0 or 1) on entry. */
static __always_inline u64 arg(struct pt_regs *regs, int n)
{
	struct pt_regs___x86 *x = (void *)regs;
	struct pt_regs___arm64 *a = (void *)regs;
	u64 v = 0;

	if (bpf_core_field_exists(x->di))
		return n == 0 ? BPF_CORE_READ(x, di) : BPF_CORE_READ(x, si);
	if (bpf_core_field_exists(a->regs))
		bpf_probe_read_kernel(&v, sizeof(v),
				      (void *)a + bpf_core_field_offset(a->regs) + n * sizeof(u64));
	return v;
}

/* The system call number on return. */
static __always_inline s64 nr_on_exit(struct pt_regs *regs)
{
	struct pt_regs___x86 *x = (void *)regs;
	struct pt_regs___arm64 *a = (void *)regs;

	if (bpf_core_field_exists(x->orig_ax))
		return (s64)BPF_CORE_READ(x, orig_ax);
	if (bpf_core_field_exists(a->syscallno))
		return BPF_CORE_READ(a, syscallno);
	return -1;
}

/* setns_fd records what fd is in the caller's fd table now. */
static __always_inline void setns_fd(struct nst_event *e, struct task_struct *t, int fd)
{
	struct fdtable *fdt = BPF_CORE_READ(t, files, fdt);
	struct file *f = 0;
	struct inode *ino;
	struct ns_common *ns;
	unsigned long magic;

	e->fd = fd;
	if (!fdt || fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return;
	bpf_probe_read_kernel(&f, sizeof(f), BPF_CORE_READ(fdt, fd) + fd);
	if (!f)
		return;
	ino = BPF_CORE_READ(f, f_inode);
	magic = BPF_CORE_READ(ino, i_sb, s_magic);
	if (magic != NSFS_MAGIC) {
		/* A pidfd's struct pid is its inode's i_private on pidfs
		 * (6.9+), its file's private_data before (an anonymous
		 * inode). For any other file the number is garbage, kept
		 * only if setns succeeds, which proves a pidfd. */
		e->fd_kind = NST_FD_OTHER;
		if (magic == PID_FS_MAGIC)
			e->target = nr_in_reader(BPF_CORE_READ(ino, i_private));
		else
			e->target = nr_in_reader(BPF_CORE_READ(f, private_data));
		return;
	}
	/* An nsfs inode's i_private is its struct ns_common. */
	ns = BPF_CORE_READ(ino, i_private);
	e->fd_kind = NST_FD_NSFS;
	e->fd_ns_type = ns_type(ns);
	e->fd_ns_inum = BPF_CORE_READ(ns, inum);
	e->fd_ns_id = ns_id(ns);
}

/* syscall_traced reports whether a system call of cur is one to report:
 * not a 32-bit one (another table's numbers), not nsinspect's own, and
 * for trace of a followed process. */
static __always_inline bool syscall_traced(struct task_struct *cur)
{
	u32 tgid;

	if (compat(cur))
		return false;
	tgid = tgid_of(cur);
	return tgid && tgid != tracer_tgid && !(follow && !is_followed(tgid));
}

/* on_enter snapshots the caller entering system call id, if it is one
 * the tracer sends at return. */
static __noinline int on_enter(struct pt_regs *regs, s64 id)
{
	struct task_struct *cur;
	struct nst_event *e;
	u64 key;
	u32 zero = 0;

	if (id != nr_unshare && id != nr_setns && id != nr_execve && id != nr_execveat)
		return 0;
	cur = (struct task_struct *)bpf_get_current_task();
	if (own_probe(cur, id, SEEN_ENTER) || !syscall_traced(cur))
		return 0;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	__builtin_memset(e, 0, sizeof(*e));
	fill(&e->a, cur);
	if (id == nr_unshare) {
		e->kind = NST_UNSHARE;
		e->flags = arg(regs, 0);
	} else if (id == nr_execve || id == nr_execveat) {
		e->kind = NST_EXEC;
	} else {
		e->kind = NST_SETNS;
		e->flags = (u32)arg(regs, 1);
		setns_fd(e, cur, (int)arg(regs, 0));
	}
	key = bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending, &key, e, BPF_ANY);
	return 0;
}

/* System call argument 0 on return: x86_64's di is still the caller's;
 * arm64's regs[0] holds the return value by then, and orig_x0 the
 * argument. */
static __always_inline u64 arg0_on_exit(struct pt_regs *regs)
{
	struct pt_regs___x86 *x = (void *)regs;
	struct pt_regs___arm64 *a = (void *)regs;

	if (bpf_core_field_exists(x->di))
		return BPF_CORE_READ(x, di);
	if (bpf_core_field_exists(a->orig_x0))
		return BPF_CORE_READ(a, orig_x0);
	return 0;
}

#define CSIGNAL 0xff
#define SIGCHLD 17
#define ERESTARTSYS 512
#define ERESTART_RESTARTBLOCK 516

/* fork_failed sends the failed clone-family call id of the current task,
 * which returned ret. */
static __always_inline int fork_failed(struct pt_regs *regs, s64 id, s64 ret)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	struct nst_event *e;

	/* -ERESTARTSYS .. -ERESTART_RESTARTBLOCK never reach the caller. */
	if (ret <= -ERESTARTSYS && ret >= -ERESTART_RESTARTBLOCK)
		return 0;
	if (!syscall_traced(cur))
		return 0;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		lose();
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e));
	e->kind = NST_FORK_FAILED;
	e->user_worker_flag = user_worker_flag();
	e->ktime = bpf_ktime_get_boot_ns();
	e->ret = ret;
	if (id == nr_clone3) {
		/* struct clone_args: flags at 0, exit_signal at 32. */
		u64 args[5] = {};

		e->syscall = NST_SYS_CLONE3;
		if (!bpf_probe_read_user(args, sizeof(args), (void *)arg0_on_exit(regs))) {
			e->flags = args[0];
			e->exit_signal = (s32)args[4];
		}
	} else if (id == nr_clone) {
		u64 a = arg0_on_exit(regs);

		e->syscall = NST_SYS_CLONE;
		e->flags = a & ~(u64)CSIGNAL;
		e->exit_signal = a & CSIGNAL;
	} else if (id == nr_vfork) {
		e->syscall = NST_SYS_VFORK;
		e->flags = CLONE_VFORK | CLONE_VM;
		e->exit_signal = SIGCHLD;
	} else {
		e->syscall = NST_SYS_FORK;
		e->exit_signal = SIGCHLD;
	}
	fill(&e->a, cur);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* take_pending moves p, the pending entry of key, into a ring buffer
 * record stamped now; NULL, counted as lost, when the ring buffer is
 * full. The entry is gone either way. */
static __always_inline struct nst_event *take_pending(struct nst_event *p, u64 *key)
{
	struct nst_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

	if (e)
		__builtin_memcpy(e, p, sizeof(*e));
	else
		lose();
	bpf_map_delete_elem(&pending, key);
	if (e)
		e->ktime = bpf_ktime_get_boot_ns();
	return e;
}

/* on_exit sends what system call id, returning ret, did: a failed fork,
 * or the unshare or setns whose caller on_enter saw. */
static __noinline int on_exit(struct pt_regs *regs, s64 id, s64 ret)
{
	struct nst_event *p, *e;
	u64 key;

	if (ret < 0 && id >= 0 && (id == nr_clone || id == nr_clone3 || id == nr_fork || id == nr_vfork))
		return fork_failed(regs, id, ret);
	key = bpf_get_current_pid_tgid();
	if (id == nr_execve || id == nr_execveat) {
		/* A failed exec (a successful one was sent by nst_exec). */
		bpf_map_delete_elem(&pending, &key);
		return 0;
	}
	if (id != nr_unshare && id != nr_setns)
		return 0;
	if (own_probe((struct task_struct *)bpf_get_current_task(), id, SEEN_EXIT))
		return 0;
	p = bpf_map_lookup_elem(&pending, &key);
	if (!p)
		return 0;
	e = take_pending(p, &key);
	if (!e)
		return 0;
	e->ret = ret;
	if (ret != 0 || e->fd_kind != NST_FD_OTHER)
		e->target = 0;
	fill(&e->b, (struct task_struct *)bpf_get_current_task());
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* The raw system call tracepoints: every system call of the machine runs
 * these (and takes the kernel's traced slow path), which keep the few
 * above. Used where the kernel cannot attach fentry and fexit programs
 * (arm64 before 6.4), and by default (--hooks tracepoints). */
SEC("tp_btf/sys_enter")
int nst_sys_enter(u64 *ctx)
{
	return on_enter((struct pt_regs *)ctx[0], (s64)ctx[1]);
}

SEC("tp_btf/sys_exit")
int nst_sys_exit(u64 *ctx)
{
	struct pt_regs *regs = (struct pt_regs *)ctx[0];

	return on_exit(regs, nr_on_exit(regs), (s64)ctx[1]);
}

/* fentry and fexit programs on the system calls themselves, where the
 * kernel has BPF trampolines (x86_64, arm64 from 6.4) and --hooks fentry asks: the other system
 * calls run untouched. Each is attached by the loader to the
 * architecture's wrapper (__x64_sys_NAME, __arm64_sys_NAME: one argument,
 * the caller's struct pt_regs, so the same readers of the arguments
 * serve); the section names are x86_64's. */

/* The wrapper's one argument, copied rather than loaded: in 5.10's BTF
 * some wrappers' struct pt_regs is a forward declaration, and the
 * verifier there refuses a typed load of ctx[0] ("arg0 type FWD is not a
 * struct"). The pointer is only ever read through probe reads. */
static __always_inline struct pt_regs *regs_arg(u64 *ctx)
{
	struct pt_regs *regs = 0;

	bpf_probe_read_kernel(&regs, sizeof(regs), ctx);
	return regs;
}

#define ON_ENTRY(prog, call, nr)                   \
	SEC("fentry/__x64_sys_" #call)              \
	int prog(u64 *ctx)                          \
	{                                           \
		return on_enter(regs_arg(ctx), nr); \
	}
#define ON_RETURN(prog, call, nr)                  \
	SEC("fexit/__x64_sys_" #call)               \
	int prog(u64 *ctx)                          \
	{                                           \
		return on_exit(regs_arg(ctx), nr, (s64)ctx[1]); \
	}

ON_ENTRY(nst_in_unshare, unshare, nr_unshare)
ON_ENTRY(nst_in_setns, setns, nr_setns)
ON_RETURN(nst_out_unshare, unshare, nr_unshare)
ON_RETURN(nst_out_setns, setns, nr_setns)
ON_RETURN(nst_out_clone, clone, nr_clone)
ON_RETURN(nst_out_clone3, clone3, nr_clone3)
ON_RETURN(nst_out_fork, fork, nr_fork)
ON_RETURN(nst_out_vfork, vfork, nr_vfork)

/* An exec, with fentry: begin_new_exec() (exported, so never inlined;
 * 5.8+) is where an exec that will succeed starts replacing the caller's
 * objects, for execve and execveat alike and still under the TID the
 * caller entered with (de_thread() runs inside it). The wrappers of
 * execve and execveat are not used: on Debian's 6.1 the kernel's BTF has
 * two functions named __x64_sys_execveat, which no name can attach to.
 * An exec that fails before this point sends nothing, as with the raw
 * tracepoints; unlike them, the kernel's own execs (usermode helpers,
 * kernel_execve) are seen too. */
SEC("fentry/begin_new_exec")
int nst_in_exec(u64 *ctx)
{
	return on_enter(0, nr_execve);
}

SEC("tp_btf/sched_process_exec")
int nst_exec(u64 *ctx)
{
	struct task_struct *cur = (struct task_struct *)ctx[0];
	u32 old_pid = (u32)ctx[1];
	struct nst_event *p, *e;
	u64 key = (bpf_get_current_pid_tgid() & ~0xffffffffULL) | old_pid;

	p = bpf_map_lookup_elem(&pending, &key);
	if (!p || p->kind != NST_EXEC)
		return 0;
	e = take_pending(p, &key);
	if (!e)
		return 0;
	fill(&e->b, cur);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

SEC("kprobe/proc_free_inum")
int nst_free_inum(struct pt_regs *ctx)
{
	struct nst_inum_freed r = {.kind = NST_INUM_FREED};

	r.inum = (u32)arg(ctx, 0);
	r.ktime = bpf_ktime_get_boot_ns();
	if (bpf_ringbuf_output(&events, &r, sizeof(r), 0))
		lose();
	return 0;
}
