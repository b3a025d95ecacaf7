/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel types the tracer reads, and only the members it reads, each
 * struct with preserve_access_index so that every member access is a CO-RE
 * relocation resolved against the running kernel's BTF at load time: the
 * offsets below mean nothing, and one object serves x86_64 and arm64.
 * This file is the tracer's own (bpfiter has its own): the two packages'
 * programs change independently.
 */
#ifndef NST_KERNEL_H
#define NST_KERNEL_H

typedef unsigned char __u8;
typedef unsigned short __u16;
typedef unsigned int __u32;
typedef unsigned long long __u64;
typedef signed char __s8;
typedef short __s16;
typedef int __s32;
typedef long long __s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef _Bool bool;
#define true 1
#define false 0

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
};

enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
};

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

/* The reference counts that say an exiting task is an object's last
 * holder. Their types changed (atomic_t, refcount_t, atomic_long_t): each
 * is read as the low 32 bits at the member's offset, and declared as a
 * struct so that CO-RE accepts any of them. */
struct nst_count {
	int counter;
};

struct proc_ns_operations {
	int type;
};

/* ns_id and ns_type are in struct ns_common since 6.18. */
struct ns_common {
	u32 ns_type;
	const struct proc_ns_operations *ops;
	unsigned int inum;
	u64 ns_id;
};

struct user_namespace {
	struct ns_common ns;
};

struct uts_namespace {
	struct ns_common ns;
};

struct ipc_namespace {
	struct ns_common ns;
};

struct mnt_namespace {
	struct ns_common ns;
};

struct pid_namespace {
	unsigned int level;
	struct ns_common ns;
};

struct net {
	struct ns_common ns;
};

struct time_namespace {
	struct ns_common ns;
};

struct cgroup_namespace {
	struct ns_common ns;
};

struct nsproxy {
	struct nst_count count;
	struct uts_namespace *uts_ns;
	struct ipc_namespace *ipc_ns;
	struct mnt_namespace *mnt_ns;
	struct pid_namespace *pid_ns_for_children;
	struct net *net_ns;
	struct time_namespace *time_ns;
	struct time_namespace *time_ns_for_children;
	struct cgroup_namespace *cgroup_ns;
};

struct upid {
	int nr;
	struct pid_namespace *ns;
};

struct pid {
	unsigned int level;
	struct upid numbers[1];
};

struct cred {
	struct nst_count usage;
	struct user_namespace *user_ns;
};

struct sysv_sem {
	struct sem_undo_list *undo_list;
};

typedef struct {
	int counter;
} atomic_t;

struct signal_struct {
	atomic_t live;
	int nr_threads;
};

struct fs_struct {
	int users;
};

struct mm_struct {
	struct nst_count mm_users;
};

struct sighand_struct {
	struct nst_count count;
};

struct io_context {
	struct nst_count active_ref;
};

struct sem_undo_list {
	struct nst_count refcnt;
};

struct thread_info {
	unsigned long flags;
};

/* x86's thread_info.status holds TS_COMPAT during an ia32 system call;
 * arm64's thread_info has no status. */
struct thread_info___x86 {
	u32 status;
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_info thread_info;
	unsigned int flags;
	int pid;
	int tgid;
	int exit_signal;
	struct task_struct *group_leader;
	struct pid *thread_pid;
	const struct cred *real_cred;
	const struct cred *cred;
	char comm[16];
	struct nsproxy *nsproxy;
	struct files_struct *files;
	struct fs_struct *fs;
	struct mm_struct *mm;
	struct mm_struct *active_mm;
	struct sighand_struct *sighand;
	struct signal_struct *signal;
	struct io_context *io_context;
	struct sysv_sem sysvsem;
};

/* Present since 6.4, with PF_USER_WORKER (vhost workers). */
struct kernel_clone_args {
	u32 user_worker : 1;
};

/* The registers of a system call, as the raw sys_enter and sys_exit
 * tracepoints get them. Two flavours: CO-RE keeps the one whose members
 * exist in the running kernel's struct pt_regs. */
struct pt_regs___x86 {
	unsigned long di;
	unsigned long si;
	unsigned long orig_ax;
} __attribute__((preserve_access_index));

struct pt_regs___arm64 {
	u64 regs[31];
	u64 orig_x0;
	s32 syscallno;
} __attribute__((preserve_access_index));

struct pt_regs;

struct super_block {
	unsigned long s_magic;
};

struct inode {
	struct super_block *i_sb;
	void *i_private;
};

struct file {
	struct inode *f_inode;
	void *private_data;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct nst_count count;
	struct fdtable *fdt;
};

#pragma clang attribute pop

#endif
