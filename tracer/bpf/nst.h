/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The records the tracer sends through its ring buffer, read back by
 * tracer/decode.go. bpf2go generates the Go types from this file's BTF
 * (-type), so the two sides cannot drift apart.
 */
#ifndef NST_H
#define NST_H

#define NST_NLINKS 10 /* the /proc/PID/ns links, in namespaces.Links order */
#define NST_NOBJS 9   /* the per-task kernel objects, in taskobj.Object order */

enum nst_kind {
	NST_FORK = 1,    /* task_newtask: a new task */
	NST_UNSHARE = 2, /* unshare(2) returned */
	NST_SETNS = 3,   /* setns(2) returned */
	NST_EXIT = 4,    /* a task exited (struct nst_exited, never printed) */
	NST_FORK_FAILED = 5, /* clone, clone3, fork or vfork returned an error */
	NST_EXEC = 6,    /* execve or execveat succeeded (sched_process_exec) */
	NST_INUM_FREED = 7, /* proc_free_inum(): struct nst_inum_freed */
};

/* Which call a failed fork was (NST_FORK_FAILED). */
enum nst_syscall {
	NST_SYS_CLONE = 1,
	NST_SYS_CLONE3 = 2,
	NST_SYS_FORK = 3,
	NST_SYS_VFORK = 4,
};

/* What a setns(2) fd was when the call began. */
enum nst_fd_kind {
	NST_FD_NONE = 0,  /* not an open fd */
	NST_FD_NSFS = 1,  /* a namespace file (/proc/PID/ns/TYPE, a bind mount) */
	NST_FD_OTHER = 2, /* anything else: a pidfd if the call succeeds */
};

/* One task at one instant. PIDs are numbers in the pid namespace of the
 * tracer, 0 where the task is not visible from it. */
struct nst_task {
	u32 tgid;
	u32 tid;
	u32 flags;	/* task->flags: PF_KTHREAD, PF_IO_WORKER, PF_USER_WORKER */
	u32 threads;	/* signal->nr_threads */
	char comm[16];
	u32 ns_inum[NST_NLINKS]; /* 0: none */
	u64 ns_id[NST_NLINKS];	 /* 0 where the kernel has no ns_id (before 6.18) */
	u64 obj[NST_NOBJS];	 /* keyed hashes of the object pointers, 0 for NULL */
};

struct nst_event {
	u32 kind;
	u32 user_worker_flag; /* the PF_USER_WORKER bit on this kernel, 0 if none */
	u64 ktime;	/* bpf_ktime_get_boot_ns */
	u64 flags;	/* clone flags (no exit signal), unshare flags, setns nstype */
	s64 ret;	/* unshare, setns, a failed fork: the return value, -errno on failure */
	s32 fd;		/* setns: the fd argument */
	u32 fd_kind;	/* setns: enum nst_fd_kind */
	u32 fd_ns_type; /* setns on an nsfs fd: its CLONE_NEW* type */
	u32 fd_ns_inum;
	u64 fd_ns_id;
	u32 target;	/* setns on a pidfd that succeeded: the pid it names */
	s32 exit_signal; /* fork: the child's exit signal (a failed one: asked for) */
	u32 syscall;	/* a failed fork: enum nst_syscall */
	u32 _pad;
	struct nst_task a; /* fork: the caller; unshare, setns, exec: the caller before */
	struct nst_task b; /* fork: the child; unshare, setns, exec: the caller after */
};

/* A task exited: the objects that die with it, so that the reader can
 * forget their ids, and for trace whether it was the last thread of a
 * followed process. Sent only when one of the two is true. */
struct nst_exited {
	u32 kind;	/* NST_EXIT */
	u32 followed;	/* trace: a followed process's last thread */
	u32 tgid;
	u32 tid;
	s32 exit_code;	/* task->exit_code: for the last thread, the process's wait status */
	u32 _pad;
	u64 ktime;	/* bpf_ktime_get_boot_ns */
	char comm[16];
	u64 freed[NST_NOBJS]; /* keyed hashes of the objects this exit frees, 0 for the others */
};

/* proc_free_inum() freed a proc inode number: a namespace's when the
 * reader knows the number as one (every namespace's free ends there), a
 * /proc entry's otherwise. */
struct nst_inum_freed {
	u32 kind;	/* NST_INUM_FREED */
	u32 inum;
	u64 ktime;	/* bpf_ktime_get_boot_ns */
};

#endif
