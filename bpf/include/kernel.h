/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The kernel types nsinspect's BPF programs read (bpfiter's iterators and
 * the tracer), and only the members they read. Every struct carries
 * preserve_access_index, so clang records each member access as a CO-RE
 * relocation: at load time cilium/ebpf finds the member by name in the
 * running kernel's BTF (/sys/kernel/btf/vmlinux) and patches the offset.
 * The order and offsets below are therefore meaningless, a member that one
 * program does not read costs it nothing but its BTF, and one object runs
 * on every kernel with BTF (5.10 to 6.18 are tested) and on amd64 and
 * arm64 alike. A header dumped from one kernel's BTF would work too, but
 * is 5 MB and per architecture.
 */
#ifndef NS_KERNEL_H
#define NS_KERNEL_H

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

#define BPF_F_NO_PREALLOC (1U << 0)

/* The kernel's constants the programs test: clone(2) flags, task->flags
 * bits, superblock magic numbers (statfs(2)). */
#define CLONE_NEWTIME 0x00000080
#define CLONE_VM 0x00000100
#define CLONE_VFORK 0x00004000
#define CLONE_THREAD 0x00010000
#define CLONE_NEWNS 0x00020000
#define CLONE_NEWCGROUP 0x02000000
#define CLONE_NEWUTS 0x04000000
#define CLONE_NEWIPC 0x08000000
#define CLONE_NEWUSER 0x10000000
#define CLONE_NEWPID 0x20000000
#define CLONE_NEWNET 0x40000000
#define PF_USER_WORKER 0x00004000
#define PF_KTHREAD 0x00200000
#define NSFS_MAGIC 0x6e736673
#define SOCKFS_MAGIC 0x534F434B
#define PID_FS_MAGIC 0x50494446

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

/* The reference counts that say an exiting task is an object's last
 * holder. Their types changed (atomic_t, refcount_t, atomic_long_t): each
 * is read as the low 32 bits at the member's offset, and declared as a
 * struct so that CO-RE accepts any of them. */
struct count32 {
	int counter;
};

typedef struct {
	int counter;
} atomic_t;

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
	struct count32 count;
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
	struct count32 usage;
	kuid_t uid;
	kgid_t gid;
	kuid_t suid;
	kuid_t euid;
	kgid_t egid;
	kuid_t fsuid;
	struct user_namespace *user_ns;
};

struct sem_undo_list {
	struct count32 refcnt;
};

struct sysv_sem {
	struct sem_undo_list *undo_list;
};

struct signal_struct {
	atomic_t live;
	int nr_threads;
};

struct fs_struct {
	int users;
};

struct mm_struct {
	struct count32 mm_users;
};

struct sighand_struct {
	struct count32 count;
};

struct io_context {
	struct count32 active_ref;
};

struct files_struct;

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
	unsigned int __state;
	int exit_state;
	unsigned int flags;
	int pid;
	int tgid;
	int exit_signal;
	int exit_code;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct pid *thread_pid;
	u64 start_boottime;
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

/* task_struct's state was `long state` until 5.14 renamed it __state. */
struct task_struct___pre514 {
	long state;
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
	struct count32 count;
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
