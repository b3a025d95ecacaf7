/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The records nsinspect's iterators write to their seq_file, read back by
 * bpfiter (iter.go). bpf2go generates the Go types from this file's BTF
 * (-type), so the two sides cannot drift apart; every record is a multiple
 * of 8 bytes and starts with its kind.
 */
#ifndef NSI_H
#define NSI_H

#define NSI_NLINKS 10	/* the /proc/PID/ns links, in namespaces.Links order */
#define NSI_NOBJS 9	/* the per-task kernel objects, in taskobj.Object order */
#define NSI_NAME 64	/* bytes of a dentry name kept by fdwalk */
#define NSI_FDWALK_MAX 128 /* fds per fdwalk run: one run must fit the seq_file buffer */

enum nsi_kind {
	NSI_REC_TASK = 1,
	NSI_REC_NS = 2,
	NSI_REC_FD = 3,
	NSI_REC_WALK = 4,
	NSI_REC_WALKEND = 5,
	NSI_REC_SOCK = 6,	/* a struct nsi_fd: a socket and its net namespace */
	NSI_REC_UNBORN = 7,	/* a struct nsi_fd: a task's pid_for_children that has no init */
};

/* One task (thread) of iter/task. PIDs are numbers in the pid namespace
 * of the reading process, 0 where the task is not visible from it. */
struct nsi_task {
	u32 kind;
	u32 tgid;
	u32 tid;
	u32 ppid;
	u32 flags;	/* task->flags: PF_KTHREAD */
	u32 state;	/* task->__state */
	u32 exit_state;
	u32 uid, euid, suid, fsuid, gid, egid; /* kuid values in the initial user namespace */
	u32 ns_inum[NSI_NLINKS]; /* 0: none (a zombie's released nsproxy) */
	char comm[16];
	u64 ns_id[NSI_NLINKS];	/* 0 where the kernel has no ns_id (before 6.18) */
	u64 obj[NSI_NOBJS];	/* keyed hashes of the object pointers, 0 for NULL */
	u64 start_boottime;	/* ns after boot: /proc/PID/stat's starttime, in ns */
};

/* One namespace, written the first time a pass meets it. */
struct nsi_ns {
	u32 kind;
	u32 type;	/* CLONE_NEW* from ns->ops->type */
	u32 inum;
	u32 owner;	/* inum of the owning user namespace, 0 for none */
	u32 parent;	/* inum of the parent (pid and user namespaces), 0 for none */
	u32 level;	/* depth for pid and user namespaces */
	u64 id;
};

/* One nsfs file in some task's fd table (iter/task_file). The same
 * record, with kind NSI_REC_SOCK, is a socket made in a network namespace
 * other than its task's (type CLONE_NEWNET, inum that namespace); with
 * kind NSI_REC_UNBORN, written by nsi_tasks after a task record, the pid
 * namespace of task tid's pid_for_children that has no init yet (fd 0). */
struct nsi_fd {
	u32 kind;
	u32 tgid;
	u32 tid;
	u32 fd;
	u32 type;
	u32 inum;
	u64 id;
};

/* One fd of fdwalk: task->files->fdt->fd[fd], read from kernel memory. */
struct nsi_walk {
	u32 kind;
	u32 fd;
	u32 f_flags;
	u32 i_mode;
	u64 i_ino;
	u64 s_magic;
	char name[NSI_NAME];	/* f_path.dentry->d_name.name */
};

/* The end of one fdwalk run: where the next run starts, and the size of
 * the table. */
struct nsi_walkend {
	u32 kind;
	u32 tgid;
	u32 next;
	u32 max_fds;
};

/* fdwalk's input, element 0 of its config map. */
struct nsi_walkcfg {
	u32 tgid;	/* in the reading process's pid namespace */
	u32 start;
};

#endif
