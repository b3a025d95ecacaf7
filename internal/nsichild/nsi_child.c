/* The experiment's parent and child: the one place in nsinspect that runs
 * outside the Go runtime. Read README.md in this directory first.
 *
 * Discipline, as in Go's syscall/exec_linux.go between clone and exec: the
 * code that runs in a cloned process allocates nothing, takes no lock, calls
 * no libc function and touches no thread-local state (errno included,
 * because a CLONE_VM child shares its parent's TLS block). Every system call
 * goes through nsi_syscall, which returns -errno. */
#define _GNU_SOURCE
#include <linux/sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>

#include "nsi_child.h"

#define NSI_STACK_SIZE (256 * 1024)

volatile uint64_t nsi_probe_word;

static struct nsi_experiment nsi_exp; /* the parent's copy of the request */

/* The two pieces of assembly each architecture needs, one block per
 * architecture:
 *
 * nsi_syscall issues one system call and returns its result, -errno on
 * failure, without touching errno.
 *
 * nsi_clone issues clone (nr = SYS_clone) or clone3 (nr = SYS_clone3). In
 * the new task the syscall returns 0 on the new stack, where the caller's
 * frame does not exist: the assembly calls fn(arg) from there and ends the
 * task with SYS_exit when fn returns. fn and arg travel in callee-saved
 * registers, which the kernel copies into the child and the syscall
 * instruction does not clobber.
 *
 * NSI_SA_FLAGS and NSI_SA_RESTORER are what rt_sigaction needs so that a
 * handler can return (see nsi_sigaction). */
#if defined(__x86_64__)

static long nsi_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register long r9 __asm__("r9") = a6;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

/* fn and arg travel in r12/r13. */
static long nsi_clone(long nr, long a1, long a2, long a3, long a4, long a5,
		      int (*fn)(void *), void *arg)
{
	register long r10 __asm__("r10") = a4;
	register long r8 __asm__("r8") = a5;
	register void *r12 __asm__("r12") = (void *)fn;
	register void *r13 __asm__("r13") = arg;
	long ret;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "and $-16, %%rsp\n\t"
			 "mov %%r13, %%rdi\n\t"
			 "call *%%r12\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov $60, %%eax\n\t" /* SYS_exit */
			 "syscall\n\t"
			 "hlt\n"
			 "1:"
			 : "=a"(ret)
			 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r12), "r"(r13)
			 : "rcx", "r11", "memory");
	return ret;
}

/* x86_64 has no default return path from a handler: without SA_RESTORER
 * the kernel refuses to deliver the signal (the task gets SIGSEGV). The
 * restorer runs with rsp on the signal frame, so it must not touch the
 * stack: naked, it is exactly the two instructions, whatever the -O level. */
__attribute__((naked)) static void nsi_restorer(void)
{
	__asm__ volatile("mov $15, %eax\n\t" /* SYS_rt_sigreturn */
			 "syscall\n\t"
			 "hlt");
}

#define NSI_SA_FLAGS 0x04000000 /* SA_RESTORER */
#define NSI_SA_RESTORER nsi_restorer

#elif defined(__aarch64__)

/* svc #0: number in x8, arguments in x0-x5, result in x0. The kernel
 * preserves every other general register. NSI_SVC_REGS declares x8 and
 * x0-x4, which both calls below fill the same way. */
#define NSI_SVC_REGS(nr, a1, a2, a3, a4, a5)         \
	register long x8 __asm__("x8") = (nr);       \
	register long x0 __asm__("x0") = (a1);       \
	register long x1 __asm__("x1") = (a2);       \
	register long x2 __asm__("x2") = (a3);       \
	register long x3 __asm__("x3") = (a4);       \
	register long x4 __asm__("x4") = (a5)

static long nsi_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6)
{
	NSI_SVC_REGS(nr, a1, a2, a3, a4, a5);
	register long x5 __asm__("x5") = a6;
	__asm__ volatile("svc #0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}

/* fn and arg travel in x19/x20. The kernel sets the child's sp from the
 * stack argument (clone) or stack + stack_size (clone3); it is 16-byte
 * aligned already (an mmap'd stack of NSI_STACK_SIZE), and aligning it
 * again costs one instruction and guards the SP alignment check. x29 and
 * x30 are zeroed so that fn's frame is the outermost one. */
static long nsi_clone(long nr, long a1, long a2, long a3, long a4, long a5,
		      int (*fn)(void *), void *arg)
{
	NSI_SVC_REGS(nr, a1, a2, a3, a4, a5);
	register void *x19 __asm__("x19") = (void *)fn;
	register void *x20 __asm__("x20") = arg;
	__asm__ volatile("svc #0\n\t"
			 "cbnz x0, 1f\n\t"
			 "mov x9, sp\n\t"
			 "and sp, x9, #-16\n\t"
			 "mov x29, xzr\n\t"
			 "mov x30, xzr\n\t"
			 "mov x0, x20\n\t"
			 "blr x19\n\t" /* fn's int result is in w0 */
			 "sxtw x0, w0\n\t"
			 "mov x8, #93\n\t" /* SYS_exit */
			 "svc #0\n\t"
			 "brk #0\n"
			 "1:"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x19), "r"(x20)
			 : "memory");
	return x0;
}

/* arm64 needs no restorer: without SA_RESTORER the kernel returns from a
 * handler through the vDSO's sigreturn trampoline, which every process
 * has. (SA_RESTORER exists on arm64 only for AArch32 tasks.) */
#define NSI_SA_FLAGS 0
#define NSI_SA_RESTORER 0

#else
#error "nsinspect's clone experiments are implemented for x86_64 and aarch64 only: another architecture needs its own nsi_syscall, nsi_clone and rt_sigaction flags"
#endif

#define SYS0(nr) nsi_syscall(nr, 0, 0, 0, 0, 0, 0)
#define SYS1(nr, a) nsi_syscall(nr, (long)(a), 0, 0, 0, 0, 0)
#define SYS2(nr, a, b) nsi_syscall(nr, (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(nr, a, b, c) nsi_syscall(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(nr, a, b, c, d) nsi_syscall(nr, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS5(nr, a, b, c, d, e) nsi_syscall(nr, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

/* The generic system call table (arm64) has no open, dup2, fork and the
 * like: the code uses only calls both tables have, openat and dup3. */
#define NSI_AT_FDCWD (-100)

static void *nsi_stack(void)
{
	long p = nsi_syscall(SYS_mmap, 0, NSI_STACK_SIZE, 0x3 /* PROT_READ|WRITE */,
			     0x22 | 0x20000 /* MAP_PRIVATE|ANONYMOUS|STACK */, -1, 0);
	return p < 0 && p > -4096 ? NULL : (void *)p;
}

static void nsi_copy(char *dst, const char *src, size_t n)
{
	size_t i = 0;
	for (; i + 1 < n && src[i]; i++)
		dst[i] = src[i];
	dst[i] = 0;
}

static size_t nsi_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static void nsi_handler(int sig) { (void)sig; }

/* The kernel's struct sigaction for rt_sigaction (not libc's). arm64 has
 * the restorer field too (its uapi defines SA_RESTORER for AArch32), so
 * the layout is the same on both architectures. */
struct nsi_ksigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static long nsi_sigaction(int sig, void (*h)(int))
{
	struct nsi_ksigaction sa = {h, NSI_SA_FLAGS, NSI_SA_RESTORER, 0};
	return SYS4(SYS_rt_sigaction, sig, &sa, 0, 8);
}

struct nsi_sembuf {
	unsigned short num;
	short op;
	short flg;
};

/* Allocate current's SysV undo list: semop with SEM_UNDO on a private set,
 * then remove the set. The list outlives the set until exit. */
static long nsi_sem_undo(void)
{
	long id = SYS3(SYS_semget, 0 /* IPC_PRIVATE */, 1, 0600 | 01000 /* IPC_CREAT */);
	if (id < 0)
		return id;
	struct nsi_sembuf op = {0, 1, 0x1000 /* SEM_UNDO */};
	long r = SYS3(SYS_semop, id, &op, 1);
	SYS3(SYS_semctl, id, 0, 0 /* IPC_RMID */);
	return r;
}

struct nsi_utsname {
	char f[6][65];
};

static int nsi_loop(int cmd, int reply, int is_parent, long hello);

/* The experiment's child: gives itself an io_context and a SysV undo
 * list, as its parent did before the clone call (a child that shares them
 * uses the parent's, one that does not gets its own, so kcmp compares real
 * objects, not NULL with NULL), says hello with the first failure, then
 * serves requests. */
static int nsi_child_main(void *arg)
{
	(void)arg;
	if (!(nsi_exp.flags & CLONE_THREAD))
		SYS2(SYS_prctl, 1 /* PR_SET_PDEATHSIG */, SIGKILL);
	long hello = SYS3(SYS_ioprio_set, 1, 0, (2 << 13) | 4);
	if (hello == 0)
		hello = nsi_sem_undo();
	return nsi_loop(NSI_FD_CHILD_CMD, NSI_FD_CHILD_REPLY, 0, hello);
}

static long nsi_do_clone(int *pidfd)
{
	char *stack = nsi_stack();
	if (!stack)
		return -12; /* ENOMEM */
	uint64_t flags = nsi_exp.flags;
	if (nsi_exp.use_clone3) {
		struct clone_args ca = {0};
		ca.flags = flags;
		ca.pidfd = (uint64_t)(uintptr_t)pidfd;
		ca.exit_signal = (uint64_t)nsi_exp.exit_signal;
		ca.stack = (uint64_t)(uintptr_t)stack;
		ca.stack_size = NSI_STACK_SIZE;
		ca.cgroup = (uint64_t)nsi_exp.cgroup_fd;
		return nsi_clone(SYS_clone3, (long)&ca, sizeof(ca), 0, 0, 0, nsi_child_main, 0);
	}
	/* clone(flags, stack, parent_tid, child_tid, tls) on x86_64,
	 * clone(flags, stack, parent_tid, tls, child_tid) on arm64
	 * (CONFIG_CLONE_BACKWARDS): the two differ only in arguments 4 and 5,
	 * which are 0 here. With CLONE_PIDFD the kernel stores the pidfd at
	 * parent_tid. */
	return nsi_clone(SYS_clone, (long)(flags | (uint64_t)nsi_exp.exit_signal),
			 (long)(stack + NSI_STACK_SIZE), (long)pidfd, 0, 0, nsi_child_main, 0);
}

static long nsi_serve(const struct nsi_msg *m, struct nsi_reply *r, int is_parent)
{
	switch (m->op) {
	case NSI_OP_CLONE: {
		int pidfd = -1;
		if (!is_parent)
			return -22;
		long ret = nsi_do_clone(&pidfd);
		r->aux = pidfd;
		return ret;
	}
	case NSI_OP_OPEN:
		return SYS4(SYS_openat, NSI_AT_FDCWD, m->str, 0 /* O_RDONLY */, 0);
	case NSI_OP_CLOSE:
		return SYS1(SYS_close, m->arg);
	case NSI_OP_CHDIR:
		return SYS1(SYS_chdir, m->str);
	case NSI_OP_UMASK:
		return SYS1(SYS_umask, m->arg);
	case NSI_OP_SIGACTION:
		return nsi_sigaction(m->arg, nsi_handler);
	case NSI_OP_SIGDFL:
		return nsi_sigaction(m->arg, SIG_DFL);
	case NSI_OP_MEM_WRITE:
		nsi_probe_word = (uint64_t)(uint32_t)m->arg;
		return 0;
	case NSI_OP_MEM_READ:
		return (long)nsi_probe_word;
	case NSI_OP_MOUNT_TMPFS:
		return SYS5(SYS_mount, "nsinspect-probe", m->str, "tmpfs", 0, "size=64k");
	case NSI_OP_UMOUNT:
		return SYS2(SYS_umount2, m->str, 2 /* MNT_DETACH */);
	case NSI_OP_SETHOSTNAME:
		return SYS2(SYS_sethostname, m->str, nsi_strlen(m->str));
	case NSI_OP_UNAME: {
		struct nsi_utsname u;
		long ret = SYS1(SYS_uname, &u);
		if (ret == 0)
			nsi_copy(r->str, u.f[1], sizeof(r->str));
		return ret;
	}
	case NSI_OP_SHM_CREATE:
		return SYS3(SYS_shmget, m->arg, 4096, 0600 | 01000 | 02000 /* IPC_CREAT|EXCL */);
	case NSI_OP_SHM_LOOKUP:
		return SYS3(SYS_shmget, m->arg, 0, 0);
	case NSI_OP_SHM_RM:
		return SYS3(SYS_shmctl, m->arg, 0 /* IPC_RMID */, 0);
	case NSI_OP_MSG_CREATE:
		return SYS2(SYS_msgget, m->arg, 0600 | 01000 | 02000);
	case NSI_OP_MSG_LOOKUP:
		return SYS2(SYS_msgget, m->arg, 0);
	case NSI_OP_MSG_RM:
		return SYS3(SYS_msgctl, m->arg, 0 /* IPC_RMID */, 0);
	case NSI_OP_MQ_CREATE: {
		long fd = SYS4(SYS_mq_open, m->str, 0100 | 0200 | 02000000 /* O_CREAT|O_EXCL|O_CLOEXEC */, 0600, 0);
		return fd < 0 ? fd : SYS1(SYS_close, fd);
	}
	case NSI_OP_MQ_LOOKUP: {
		long fd = SYS4(SYS_mq_open, m->str, 02000000 /* O_RDONLY|O_CLOEXEC */, 0, 0);
		return fd < 0 ? fd : SYS1(SYS_close, fd);
	}
	case NSI_OP_MQ_UNLINK:
		return SYS1(SYS_mq_unlink, m->str);
	case NSI_OP_SEM_UNDO:
		return nsi_sem_undo();
	case NSI_OP_EXEC: {
		/* Only a failed execve replies; a successful one is seen in /proc. */
		char arg1[] = "infinity";
		char *argv[] = {(char *)m->str, arg1, 0};
		char *envp[] = {0};
		return SYS3(SYS_execve, m->str, argv, envp);
	}
	case NSI_OP_UNSHARE:
		return SYS1(SYS_unshare, (unsigned long)(uint32_t)m->arg);
	case NSI_OP_IOPRIO:
		/* IOPRIO_WHO_PROCESS, this task, class BE level 4 */
		return SYS3(SYS_ioprio_set, 1, 0, (2 << 13) | 4);
	}
	return -38; /* ENOSYS */
}

static long nsi_write_all(int fd, const void *buf, size_t n)
{
	long r;
	do
		r = SYS3(SYS_write, fd, buf, n);
	while (r == -4 /* EINTR */);
	return r;
}

static int nsi_loop(int cmd, int reply, int is_parent, long hello)
{
	struct nsi_reply r = {NSI_OP_HELLO, 0, hello, {0}};
	nsi_write_all(reply, &r, sizeof(r));
	for (;;) {
		struct nsi_msg m;
		long n = SYS3(SYS_read, cmd, &m, sizeof(m));
		if (n == -4)
			continue;
		if (n != sizeof(m) || m.op == NSI_OP_EXIT)
			break;
		m.str[sizeof(m.str) - 1] = 0;
		struct nsi_reply rep = {m.op, -1, 0, {0}};
		rep.ret = nsi_serve(&m, &rep, is_parent);
		nsi_write_all(reply, &rep, sizeof(rep));
	}
	if (is_parent)
		SYS1(SYS_exit_group, 0);
	return 0;
}

/* The experiment's parent, a fork-like copy of the caller on its own
 * stack. It makes the fd layout fixed (0-2 /dev/null, 3-6 the pipes, no
 * other fd inherited from nsinspect), arms PDEATHSIG, installs a
 * SIGUSR1 handler, so the child's SigCgt shows whether
 * handlers were copied or cleared by CLONE_CLEAR_SIGHAND, and allocates
 * the io_context and SysV undo list (see below). */
static int nsi_parent_main(void *arg)
{
	const int *fds = arg;
	int high[4];
	SYS2(SYS_prctl, 1 /* PR_SET_PDEATHSIG */, SIGKILL);
	for (int i = 0; i < 4; i++)
		high[i] = (int)SYS3(SYS_fcntl, fds[i], 1030 /* F_DUPFD_CLOEXEC */, 100);
	long cgroup = -1;
	if (nsi_exp.cgroup_fd >= 0)
		cgroup = SYS3(SYS_fcntl, nsi_exp.cgroup_fd, 1030 /* F_DUPFD_CLOEXEC */, 100);
	long null = SYS4(SYS_openat, NSI_AT_FDCWD, "/dev/null", 02 /* O_RDWR */, 0);
	/* dup3 rather than dup2, which arm64 lacks. They differ only when the
	 * two fds are equal (dup3 fails with EINVAL): that can happen only for
	 * null on 0-2, which then is /dev/null already. */
	for (int i = 0; i < 3; i++)
		SYS3(SYS_dup3, null, i, 0);
	/* dup3 without O_CLOEXEC clears FD_CLOEXEC; F_SETFL 0 clears the
	 * O_NONBLOCK that Go's poller set: each end is a file description of
	 * its own. */
	for (int i = 0; i < 4; i++) {
		SYS3(SYS_dup3, high[i], NSI_FD_PARENT_CMD + i, 0);
		SYS3(SYS_fcntl, NSI_FD_PARENT_CMD + i, 4 /* F_SETFL */, 0);
	}
	if (cgroup >= 0) {
		SYS3(SYS_dup3, cgroup, NSI_FD_CGROUP, 0);
		nsi_exp.cgroup_fd = NSI_FD_CGROUP;
		SYS3(SYS_close_range, NSI_FD_CGROUP + 1, ~0U, 0);
	} else {
		SYS3(SYS_close_range, NSI_FD_CGROUP, ~0U, 0);
	}
	/* Dispositions survive fork: drop the Go runtime's handlers, so the
	 * parent starts as a process after execve would, catching nothing. */
	for (int sig = 1; sig <= 64; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			nsi_sigaction(sig, SIG_DFL);
	nsi_sigaction(SIGUSR1, nsi_handler);
	/* Before the clone call (CLONE_VFORK suspends the parent after it):
	 * an io_context and a SysV undo list, so that CLONE_IO and
	 * CLONE_SYSVSEM have something to share and kcmp compares real
	 * objects. The hello reply carries the first failure. */
	long hello = SYS3(SYS_ioprio_set, 1, 0, (2 << 13) | 4);
	if (hello == 0)
		hello = nsi_sem_undo();
	return nsi_loop(NSI_FD_PARENT_CMD, NSI_FD_PARENT_REPLY, 1, hello);
}

long nsi_spawn_parent(const struct nsi_experiment *exp, const int fds[4])
{
	static int fdcopy[4];
	/* The kernel's 64-bit sigset, not libc's: glibc's sigfillset leaves
	 * out the two signals it keeps for itself (32 and 33). */
	uint64_t all = ~(uint64_t)0, old;
	char *stack = nsi_stack();
	if (!stack)
		return -12;
	nsi_exp = *exp;
	for (int i = 0; i < 4; i++)
		fdcopy[i] = fds[i];
	/* The new process starts with every signal blocked, so no Go signal
	 * handler can ever run in it. */
	SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, 8);
	long pid = nsi_clone(SYS_clone, SIGCHLD, (long)(stack + NSI_STACK_SIZE), 0, 0, 0,
			     nsi_parent_main, fdcopy);
	SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &old, 0, 8);
	SYS2(SYS_munmap, stack, NSI_STACK_SIZE);
	return pid;
}
