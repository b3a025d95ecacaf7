/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel types nsinspect's iterators read, and only the members they
 * read. Every struct carries preserve_access_index, so clang records each
 * member access as a CO-RE relocation: at load time cilium/ebpf finds the
 * member by name in the running kernel's BTF (/sys/kernel/btf/vmlinux) and
 * patches the offset. The order and offsets below are therefore
 * meaningless, and one object runs on every kernel with BTF (6.1 to 6.18
 * are tested) and on amd64 and arm64 alike. A header dumped from one
 * kernel's BTF would work too, but is 5 MB and per architecture.
 */
#ifndef NSI_KERNEL_H
#define NSI_KERNEL_H

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
};

#define BPF_F_NO_PREALLOC (1U << 0)

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct proc_ns_operations {
	int type;
};

/* ns_id (the id NS_GET_ID answers) and ns_type (the CLONE_NEW* flag,
 * formerly ops->type) are in struct ns_common since 6.18. */
struct ns_common {
	u32 ns_type;
	const struct proc_ns_operations *ops;
	unsigned int inum;
	u64 ns_id;
};

struct user_namespace {
	struct user_namespace *parent;
	int level;
	struct ns_common ns;
};

struct uts_namespace {
	struct user_namespace *user_ns;
	struct ns_common ns;
};

struct ipc_namespace {
	struct user_namespace *user_ns;
	struct ns_common ns;
};

struct mnt_namespace {
	struct user_namespace *user_ns;
	struct ns_common ns;
};

struct task_struct;

struct pid_namespace {
	struct task_struct *child_reaper;
	struct pid_namespace *parent;
	unsigned int level;
	struct user_namespace *user_ns;
	struct ns_common ns;
};

struct net {
	struct user_namespace *user_ns;
	struct ns_common ns;
};

struct time_namespace {
	struct user_namespace *user_ns;
	struct ns_common ns;
};

struct cgroup_namespace {
	struct user_namespace *user_ns;
	struct ns_common ns;
};

struct nsproxy {
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

typedef struct {
	u32 val;
} kuid_t;

typedef struct {
	u32 val;
} kgid_t;

struct cred {
	kuid_t uid;
	kgid_t gid;
	kuid_t suid;
	kuid_t euid;
	kgid_t egid;
	kuid_t fsuid;
	struct user_namespace *user_ns;
};

struct sem_undo_list;

struct sysv_sem {
	struct sem_undo_list *undo_list;
};

struct files_struct;
struct fs_struct;
struct mm_struct;
struct sighand_struct;
struct signal_struct;
struct io_context;

struct task_struct {
	unsigned int __state;
	int exit_state;
	unsigned int flags;
	int pid;
	int tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct pid *thread_pid;
	u64 start_boottime;
	const struct cred *real_cred;
	char comm[16];
	struct nsproxy *nsproxy;
	struct files_struct *files;
	struct fs_struct *fs;
	struct mm_struct *mm;
	struct sighand_struct *sighand;
	struct signal_struct *signal;
	struct io_context *io_context;
	struct sysv_sem sysvsem;
};

/* task_struct's state was `long state` until 5.14 renamed it __state. */
struct task_struct___pre514 {
	long state;
};

struct super_block {
	unsigned long s_magic;
};

struct inode {
	struct super_block *i_sb;
	unsigned long i_ino;
	unsigned short i_mode;
	void *i_private;
};

struct qstr {
	const unsigned char *name;
};

struct dentry {
	struct qstr d_name;
	struct inode *d_inode;
};

struct vfsmount;

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
};

struct file {
	struct path f_path;
	struct inode *f_inode;
	unsigned int f_flags;
	void *private_data;
};

/* A socket's network namespace: sock->sk->__sk_common.skc_net.net, the
 * same names from 5.10 to 6.18 (possible_net_t's net exists with
 * CONFIG_NET_NS). */
typedef struct {
	struct net *net;
} possible_net_t;

struct sock_common {
	possible_net_t skc_net;
};

struct sock {
	struct sock_common __sk_common;
};

struct socket {
	struct sock *sk;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	u64 session_id;
	u64 seq_num;
};

struct bpf_iter__task {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
};

struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	u32 fd;
	struct file *file;
};

#pragma clang attribute pop

#endif
