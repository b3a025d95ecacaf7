/*
 * clonetruth: makes clones and says, for each, what the child shares with
 * the task that made it, as the kernel answers a third process: readlink
 * of the ten /proc/PID/ns links of both, and kcmp(2) of files, fs, vm,
 * sighand, io and sysvsem. It is the witness TestTraceAgreesWithCTruth
 * holds `nsinspect trace` to: no nsinspect code is in it.
 *
 *   clonetruth PLAN      PLAN: lines "SCENARIO FLAGS" (FLAGS in hex)
 *
 * Each line is one clone, made by a fresh process (the caller) that
 * first sets the scenario up:
 *
 *   plain    nothing
 *   newpid   unshare(CLONE_NEWPID): pid_for_children is not pid
 *   newtime  unshare(CLONE_NEWTIME): time_for_children is not time
 *   setns    setns(2) into another network namespace (a holder's)
 *   ioctx    ioprio_set(2): the caller has an io_context
 *   semundo  semop(2) with SEM_UNDO: the caller has a SysV undo list
 *
 * The child, before it exits, waits until the observer (a process forked
 * at the start, root in the initial namespaces) has compared it with its
 * caller; the observer prints one JSON line per plan line:
 *
 *   {"scenario":"plain","flags":"0x400","parent":P,"child":C,"verdicts":{"cgroup":"same",...}}
 *   {"scenario":"plain","flags":"0x...","parent":P,"errno":22}
 *   {"scenario":"plain","flags":"0x...","skipped":"why"}
 *
 * Verdicts are the trace's: "same", "different", and for io and sysvsem
 * "neither" when kcmp(2) calls them equal and they equal kthreadd's NULL.
 * A set with CLONE_VM is made by glibc's clone() on a stack of its own
 * (CLONE_NEWTIME, whose bit is CSIGNAL's there, and CLONE_CLEAR_SIGHAND,
 * beyond its int, are then skipped), any
 * other by clone3(2) without a stack, as fork does. Every process it makes
 * is gone when it exits; an alarm bounds each step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/kcmp.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif

struct req {
	int32_t ptid, ctid; /* ctid: the child; 0 resolve by /proc; <0 -errno */
	uint64_t flags;
	int32_t scenario;
	int32_t skipped;
};

static const char *scenarios[] = {"plain", "newpid", "newtime", "setns", "ioctx", "semundo"};
static const char *links[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
			      "time", "time_for_children", "user", "uts"};
static const struct {
	const char *name;
	int type;
} kcmps[] = {{"files", KCMP_FILES}, {"fs", KCMP_FS}, {"vm", KCMP_VM},
	     {"sighand", KCMP_SIGHAND}, {"io", KCMP_IO}, {"sysvsem", KCMP_SYSVSEM}};

static int reqfd[2], ackfd[2];

static void die(const char *what)
{
	fprintf(stderr, "clonetruth: %s: %s\n", what, strerror(errno));
	_exit(2);
}

static void put(const void *p, size_t n, int fd)
{
	if (write(fd, p, n) != (ssize_t)n)
		die("write");
}

/* ns is the inode of /proc/TID/ns/LINK, 0 if it cannot be read. */
static unsigned long long ns(int tid, const char *link)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", tid, link);
	if (stat(path, &st) != 0)
		return 0;
	return st.st_ino;
}

static long kcmp(int a, int b, int type)
{
	return syscall(SYS_kcmp, a, b, type, 0, 0);
}

/* children lists the children of thread tid (CONFIG_PROC_CHILDREN). */
static int children(int tid, int *out, int max)
{
	char path[64], buf[256], *p = buf;
	int fd, n, k = 0;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", tid, tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	while (k < max && sscanf(p, "%d%n", &out[k], &n) == 1) {
		k++;
		p += n;
	}
	return k;
}

static pid_t holder;

/* resolve finds a child made under CLONE_VFORK in another pid namespace
 * (it cannot name itself in ours): the one child of its caller, or with
 * CLONE_PARENT the one child of main that is not the holder, the
 * observer or the caller. 0 if there is not exactly one. */
static int resolve(int ptid, uint64_t flags)
{
	int c[8], n, found = 0;

	if (!(flags & CLONE_PARENT))
		return children(ptid, c, 8) == 1 ? c[0] : 0;
	n = children(getppid(), c, 8);
	for (int i = 0; i < n; i++) {
		if (c[i] == holder || c[i] == getpid() || c[i] == ptid)
			continue;
		if (found)
			return 0;
		found = c[i];
	}
	return found;
}

static void observer(void)
{
	struct req r;
	char ack = 1;

	close(reqfd[1]);
	close(ackfd[0]);
	while (read(reqfd[0], &r, sizeof(r)) == sizeof(r)) {
		printf("{\"scenario\":\"%s\",\"flags\":\"0x%llx\"", scenarios[r.scenario],
		       (unsigned long long)r.flags);
		if (r.skipped) {
			printf(",\"skipped\":\"CLONE_VM with CLONE_NEWTIME or CLONE_CLEAR_SIGHAND needs clone3 with a stack\"}\n");
			fflush(stdout);
			continue; /* nobody waits for an ack */
		}
		printf(",\"parent\":%d", r.ptid);
		if (r.ctid == 0)
			r.ctid = resolve(r.ptid, r.flags);
		if (r.ctid < 0) {
			printf(",\"errno\":%d}\n", -r.ctid);
		} else if (r.ctid == 0) {
			printf(",\"unresolved\":\"the child of a CLONE_VFORK in a new pid namespace\"}\n");
		} else {
			printf(",\"child\":%d,\"verdicts\":{", r.ctid);
			for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
				unsigned long long a = ns(r.ptid, links[i]), b = ns(r.ctid, links[i]);
				const char *v = !a || !b ? "unreadable" : a == b ? "same" : "different";

				printf("%s\"%s\":\"%s\"", i ? "," : "", links[i], v);
			}
			for (size_t i = 0; i < sizeof(kcmps) / sizeof(kcmps[0]); i++) {
				long c = kcmp(r.ptid, r.ctid, kcmps[i].type);
				const char *v = c < 0 ? "unreadable" : c ? "different" : "same";

				/* Two NULLs are equal to kcmp: kthreadd has none. */
				if (c == 0 && (kcmps[i].type == KCMP_IO || kcmps[i].type == KCMP_SYSVSEM) &&
				    kcmp(r.ptid, 2, kcmps[i].type) == 0)
					v = "neither";
				printf(",\"%s\":\"%s\"", kcmps[i].name, v);
			}
			printf("}}\n");
		}
		fflush(stdout);
		put(&ack, 1, ackfd[1]);
	}
	_exit(0);
}

static struct req cur;
static volatile int32_t cleartid;

/* The child: with CLONE_VFORK its caller waits in clone, so the child
 * names itself (its tid, unless in a new pid namespace); then it waits
 * for the observer's ack and exits (a thread alone). */
static int child(void *arg)
{
	char ack;

	(void)arg;
	/* Raw system calls only: a CLONE_VM child shares the caller's
	 * memory, libc's state included. */
	if (cur.flags & CLONE_VFORK) {
		struct req r = cur;

		/* In another pid namespace than the observer's (its own, or
		 * the one its caller unshared) its tid means nothing there. */
		r.ctid = (cur.flags & CLONE_NEWPID) || cur.scenario == 1 ? 0 : syscall(SYS_gettid);
		syscall(SYS_write, reqfd[1], &r, sizeof(r));
	}
	syscall(SYS_read, ackfd[0], &ack, 1);
	syscall(SYS_exit, 0);
	return 0;
}

static void setup(int scenario, int holder)
{
	switch (scenario) {
	case 1:
		if (unshare(CLONE_NEWPID) != 0)
			die("unshare(CLONE_NEWPID)");
		break;
	case 2:
		if (unshare(CLONE_NEWTIME) != 0)
			die("unshare(CLONE_NEWTIME)");
		break;
	case 3: {
		char path[64];
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/ns/net", holder);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) != 0)
			die("setns into the holder's net namespace");
		close(fd);
		break;
	}
	case 4:
		/* IOPRIO_WHO_PROCESS, best effort class, level 4 */
		if (syscall(SYS_ioprio_set, 1, 0, (2 << 13) | 4) != 0)
			die("ioprio_set");
		break;
	case 5: {
		int id = semget(IPC_PRIVATE, 1, 0600);
		struct sembuf op = {0, 1, SEM_UNDO};

		if (id < 0 || semop(id, &op, 1) != 0)
			die("semop(SEM_UNDO)");
		semctl(id, 0, IPC_RMID); /* the undo list stays the task's */
		break;
	}
	}
}

/* caller makes one clone of cur.flags and waits until its child is gone. */
static void caller(int holder)
{
	uint64_t flags = cur.flags;
	int32_t ptid = syscall(SYS_gettid), pidfd_out = -1;
	long ret;
	char ack;

	alarm(20);
	setup(cur.scenario, holder);
	cur.ptid = ptid;
	if (flags & CLONE_VM) {
		size_t size = 256 << 10;
		char *stack = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
		int sig = (flags & CLONE_THREAD) ? 0 : SIGCHLD;

		if (stack == MAP_FAILED)
			die("mmap");
		if (flags & CLONE_THREAD)
			flags |= CLONE_CHILD_CLEARTID;
		cleartid = 1;
		ret = clone(child, stack + size, (int)flags | sig, NULL, &pidfd_out, NULL, &cleartid);
	} else {
		struct clone_args a = {
			.flags = flags,
			.exit_signal = (flags & CLONE_PARENT) ? 0 : SIGCHLD,
			.pidfd = (uintptr_t)&pidfd_out,
			.parent_tid = (uintptr_t)&pidfd_out,
		};

		ret = syscall(SYS_clone3, &a, sizeof(a));
		if (ret == 0) {
			child(NULL);
			_exit(0);
		}
	}
	if (ret < 0) {
		struct req r = cur;

		r.ctid = -errno;
		put(&r, sizeof(r), reqfd[1]);
		if (read(ackfd[0], &ack, 1) != 1)
			die("read ack");
		_exit(0);
	}
	if (!(flags & CLONE_VFORK)) {
		struct req r = cur;

		r.ctid = ret;
		put(&r, sizeof(r), reqfd[1]);
	}
	if (flags & CLONE_THREAD) {
		while (cleartid != 0)
			syscall(SYS_futex, &cleartid, FUTEX_WAIT, 1, NULL, NULL, 0);
	} else {
		int pfd = syscall(SYS_pidfd_open, (pid_t)ret, 0);
		struct pollfd p = {pfd, POLLIN, 0};

		if (pfd >= 0)
			poll(&p, 1, 20000);
		waitpid(ret, NULL, __WALL | WNOHANG);
	}
	_exit(0);
}

int main(int argc, char **argv)
{
	FILE *plan;
	char name[32];
	unsigned long long flags;
	pid_t obs;
	int ready[2];

	if (argc != 2 || !(plan = fopen(argv[1], "r"))) {
		fprintf(stderr, "usage: clonetruth PLAN\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (pipe(reqfd) != 0 || pipe(ackfd) != 0 || pipe(ready) != 0)
		die("pipe");
	holder = fork();
	if (holder == 0) {
		if (unshare(CLONE_NEWNET) != 0)
			die("unshare(CLONE_NEWNET) for the holder");
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(reqfd[0]);
		close(reqfd[1]);
		close(ackfd[0]);
		close(ackfd[1]);
		close(ready[0]);
		close(ready[1]); /* the holder is in its namespace */
		pause();
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], name, 1) != 0)
		die("waiting for the holder");
	obs = fork();
	if (obs == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		observer();
	}
	close(reqfd[0]);
	while (fscanf(plan, "%31s %llx", name, &flags) == 2) {
		int s = -1;
		pid_t p;

		for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			if (strcmp(name, scenarios[i]) == 0)
				s = i;
		if (s < 0) {
			fprintf(stderr, "clonetruth: unknown scenario %s\n", name);
			return 2;
		}
		memset(&cur, 0, sizeof(cur));
		cur.flags = flags;
		cur.scenario = s;
		if ((flags & CLONE_VM) && (flags & (CLONE_NEWTIME | CLONE_CLEAR_SIGHAND))) {
			cur.skipped = 1;
			put(&cur, sizeof(cur), reqfd[1]);
			continue;
		}
		p = fork();
		if (p < 0)
			die("fork");
		if (p == 0)
			caller(holder);
		waitpid(p, NULL, 0);
		while (waitpid(-1, NULL, __WALL | WNOHANG) > 0)
			; /* CLONE_PARENT children are ours */
	}
	close(reqfd[1]);
	waitpid(obs, NULL, 0);
	kill(holder, SIGKILL);
	while (waitpid(-1, NULL, __WALL) > 0)
		;
	return 0;
}
