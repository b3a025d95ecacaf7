/* The experiment's parent and child processes: C that runs outside the Go
 * runtime's rules. See README.md in this directory for why it exists. */
#ifndef NSI_CHILD_H
#define NSI_CHILD_H

#include <stdint.h>

/* Operations a parked process performs on request, one at a time. */
enum nsi_op {
	NSI_OP_HELLO = 1,   /* reply sent by a process when it is ready */
	NSI_OP_CLONE,       /* parent only: make the experiment's clone call */
	NSI_OP_EXIT,
	NSI_OP_OPEN,        /* str: path; ret: fd */
	NSI_OP_CLOSE,       /* arg: fd */
	NSI_OP_CHDIR,       /* str: path */
	NSI_OP_UMASK,       /* arg: mask; ret: old mask */
	NSI_OP_SIGACTION,   /* arg: signal; install a handler */
	NSI_OP_SIGDFL,      /* arg: signal; back to SIG_DFL */
	NSI_OP_MEM_WRITE,   /* arg: value to store in nsi_probe_word */
	NSI_OP_MEM_READ,    /* ret: nsi_probe_word */
	NSI_OP_MOUNT_TMPFS, /* str: target */
	NSI_OP_UMOUNT,      /* str: target */
	NSI_OP_SETHOSTNAME, /* str: name */
	NSI_OP_UNAME,       /* str: nodename */
	NSI_OP_SHM_CREATE,  /* arg: key; ret: id */
	NSI_OP_SHM_LOOKUP,  /* arg: key; ret: id or -ENOENT */
	NSI_OP_SHM_RM,      /* arg: id */
	NSI_OP_MSG_CREATE,  /* arg: key; ret: id */
	NSI_OP_MSG_LOOKUP,  /* arg: key */
	NSI_OP_MSG_RM,      /* arg: id */
	NSI_OP_MQ_CREATE,   /* str: name without '/'; ret: 0 */
	NSI_OP_MQ_LOOKUP,   /* str: name */
	NSI_OP_MQ_UNLINK,   /* str: name */
	NSI_OP_SEM_UNDO,    /* allocate the SysV undo list (semop SEM_UNDO) */
	NSI_OP_IOPRIO,      /* allocate the io_context (ioprio_set) */
	NSI_OP_EXEC,        /* str: program; execve(str, {str, "infinity"}, {}) */
	NSI_OP_UNSHARE,     /* arg: flags for unshare(2) */
};

/* Both fit in PIPE_BUF, so each write is atomic. */
struct nsi_msg {
	uint32_t op;
	int32_t arg;
	char str[120];
};

struct nsi_reply {
	uint32_t op;
	int32_t aux;   /* NSI_OP_CLONE: the pidfd when CLONE_PIDFD was given */
	int64_t ret;   /* >= 0: value; < 0: -errno */
	char str[112];
};

/* The experiment: what NSI_OP_CLONE does. */
struct nsi_experiment {
	uint64_t flags;       /* clone flags, CSIGNAL bits excluded */
	int32_t exit_signal;  /* for clone: or'ed into flags; clone3: exit_signal */
	int32_t use_clone3;
	int32_t cgroup_fd;    /* CLONE_INTO_CGROUP */
};

/* Fixed fd numbers in the parent and the child. */
enum {
	NSI_FD_PARENT_CMD = 3,
	NSI_FD_PARENT_REPLY = 4,
	NSI_FD_CHILD_CMD = 5,
	NSI_FD_CHILD_REPLY = 6,
	NSI_FD_CGROUP = 7, /* CLONE_INTO_CGROUP's target, when given */
};

/* nsi_spawn_parent makes the experiment's parent: a process cloned from
 * the caller with nothing shared (like fork), running only the C loop of
 * nsi_child.c. fds are the four pipe ends in NSI_FD_* order. Returns its
 * pid or -errno. */

/* The zygote's protocol (nsi_zygote.c), on a SOCK_SEQPACKET socket: one
 * request, one reply, 128 bytes each, fds as SCM_RIGHTS. */
enum nsi_zop {
	NSI_Z_HELLO = 1, /* the zygote's first message: ret 0, or -errno and str */
	NSI_Z_SPAWN,     /* fds: the four pipe ends (and the cgroup); reply: ret pid, fd pidfd */
	NSI_Z_REAP,      /* kill and reap every child; reply when none is left */
};

struct nsi_zmsg {
	uint32_t op;
	int32_t cgroup;       /* SPAWN: 1 when a fifth fd, the cgroup, is sent */
	int64_t ret;          /* reply: >= 0 value, < 0 -errno */
	uint64_t flags;       /* SPAWN: the experiment's clone flags */
	int32_t exit_signal;  /* SPAWN */
	int32_t use_clone3;   /* SPAWN */
	uint64_t probe_word;  /* HELLO: &nsi_probe_word in the zygote and its parents */
	char str[88];         /* HELLO: the setup step that failed */
};

long nsi_spawn_parent(const struct nsi_experiment *exp, const int fds[4]);

extern volatile uint64_t nsi_probe_word;

#endif
