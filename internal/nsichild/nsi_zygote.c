/* The zygote: the small process every experiment's parent is forked from.
 *
 * Before it, each parent was a fork-like copy of nsinspect itself: cheap
 * to make, but the Go process then paid a copy-on-write fault (and a TLB
 * shootdown on every CPU) for each page it wrote while the copy lived,
 * the largest cost of a matrix of experiments (docs/kernel-notes.md,
 * "The zygote"). The zygote is nsinspect's own executable started with
 * argv[0] "nsinspect-zygote": the constructor below sees that name and
 * runs the zygote before the Go runtime starts, so the process holds no
 * Go heap, no Go threads and no Go signal handlers, and never returns
 * into Go. Parents forked from it copy a few pages.
 *
 * argv[1] says where it runs:
 *   "lab"  it is PID 1 of a lab nsinspect started in fresh namespaces:
 *          it makes the mounts private, mounts its own /proc and /tmp,
 *          names the lab and makes the time namespace its parents are
 *          born in (the Go lab, clone/lab.go, takes the same steps
 *          but the last, which its "timens" zygote takes);
 *   "host" it only becomes the subreaper of what its parents make;
 *   "timens" as "host", and makes the time namespace its parents are
 *          born in: for the Go lab of a user-namespace experiment
 *          (clone/lab.go), which cannot make it itself, since Go forks
 *          with CLONE_VM|CLONE_VFORK and Linux 6.1 refuses CLONE_VM from
 *          a process whose children's time namespace is not its own
 *          (EINVAL; 6.12 allows it with CLONE_VFORK).
 *
 * It serves one request at a time on fd 3, a SOCK_SEQPACKET socket, in
 * struct nsi_zmsg (nsi_child.h): SPAWN forks a parent with the request's
 * clone flags on the four pipe ends (and the cgroup fd) sent with it and
 * answers with a pidfd on it; REAP kills and reaps every child it has,
 * which is everything an experiment made, since orphans come back to it.
 * On end of file it reaps and exits.
 *
 * Unlike nsi_child.c this runs as a whole, single-threaded process of its
 * own, so it may call libc. The parents it forks run nsi_parent_main and
 * follow nsi_child.c's rules. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nsi_child.h"

#define NSI_ZYGOTE_FD 3
#define NSI_ZYGOTE_MAXFDS 5

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static int nsi_z_send(const struct nsi_zmsg *m, int fd)
{
	struct iovec iov = {(void *)m, sizeof(*m)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr h = {0};
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	if (fd >= 0) {
		memset(&u, 0, sizeof(u));
		h.msg_control = u.buf;
		h.msg_controllen = sizeof(u.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&h);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(NSI_ZYGOTE_FD, &h, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(*m) ? 0 : -1;
}

/* nsi_z_recv reads one request and the fds sent with it; 0 at end of file. */
static ssize_t nsi_z_recv(struct nsi_zmsg *m, int fds[NSI_ZYGOTE_MAXFDS], int *nfds)
{
	struct iovec iov = {m, sizeof(*m)};
	union {
		char buf[CMSG_SPACE(NSI_ZYGOTE_MAXFDS * sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr h = {0};
	h.msg_iov = &iov;
	h.msg_iovlen = 1;
	h.msg_control = u.buf;
	h.msg_controllen = sizeof(u.buf);
	ssize_t n;
	do
		n = recvmsg(NSI_ZYGOTE_FD, &h, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	*nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (*nfds < NSI_ZYGOTE_MAXFDS)
				fds[(*nfds)++] = fd;
			else
				close(fd);
		}
	}
	if (h.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return -1;
	return n;
}

/* nsi_z_kill_children SIGKILLs every child of this (single-threaded)
 * process. They are unreaped children, so their pids cannot have been
 * reused. */
static void nsi_z_kill_children(void)
{
	char path[64], buf[4096];
	snprintf(path, sizeof(path), "/proc/self/task/%d/children", (int)getpid());
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	for (char *p = buf; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0)
			kill((pid_t)pid, SIGKILL);
		p = end;
	}
}

/* nsi_z_reap kills and reaps every child until none is left. A process
 * whose parent dies is reparented to the zygote (it is PID 1 of the lab,
 * or a subreaper) before that parent can be reaped, so once wait4 says
 * ECHILD nothing the experiment made is left. */
static void nsi_z_reap(void)
{
	for (;;) {
		nsi_z_kill_children();
		int st;
		pid_t pid = waitpid(-1, &st, __WALL);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			return;
	}
}

static int nsi_z_lab(const char **failed)
{
	static const struct {
		const char *what;
		int step;
	} steps[] = {
		{"making / private", 0},
		{"mounting the lab's /proc", 1},
		{"mounting the lab's /tmp", 2},
		{"creating /tmp/nsinspect-probe", 3},
		{"moving to /", 4},
		{"naming the lab", 5},
		{"creating the lab's time namespace", 6},
	};
	for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		int r = -1;
		switch (steps[i].step) {
		case 0: r = mount("", "/", NULL, MS_REC | MS_PRIVATE, NULL); break;
		case 1: r = mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL); break;
		case 2: r = mount("nsinspect-lab", "/tmp", "tmpfs", 0, "size=1m,mode=1777"); break;
		case 3: r = mkdir("/tmp/nsinspect-probe", 0755); break;
		case 4: r = chdir("/"); break;
		case 5: r = sethostname("nsinspect-lab", strlen("nsinspect-lab")); break;
		case 6: r = unshare(CLONE_NEWTIME); break;
		}
		if (r < 0) {
			*failed = steps[i].what;
			return -errno;
		}
	}
	return 0;
}

static void nsi_z_serve(void)
{
	for (;;) {
		struct nsi_zmsg m;
		int fds[NSI_ZYGOTE_MAXFDS], nfds;
		ssize_t n = nsi_z_recv(&m, fds, &nfds);
		if (n <= 0)
			return;
		struct nsi_zmsg r;
		memset(&r, 0, sizeof(r));
		r.op = m.op;
		int pidfd = -1;
		if (n != (ssize_t)sizeof(m)) {
			r.ret = -EPROTO;
		} else if (m.op == NSI_Z_SPAWN && nfds == 4 + (m.cgroup ? 1 : 0)) {
			struct nsi_experiment e = {m.flags, m.exit_signal, m.use_clone3, m.cgroup ? fds[4] : -1};
			long pid = nsi_spawn_parent(&e, fds);
			r.ret = pid;
			if (pid > 0) {
				pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
				if (pidfd < 0) {
					r.ret = -errno;
					kill((pid_t)pid, SIGKILL);
					waitpid((pid_t)pid, NULL, __WALL);
				}
			}
		} else if (m.op == NSI_Z_REAP && nfds == 0) {
			nsi_z_reap();
		} else {
			r.ret = -EINVAL;
		}
		for (int i = 0; i < nfds; i++)
			close(fds[i]);
		int sent = nsi_z_send(&r, pidfd);
		if (pidfd >= 0)
			close(pidfd);
		if (sent < 0)
			return;
	}
}

/* glibc calls constructors with main's arguments, before the Go runtime
 * (which cgo starts from main) exists. Any other argv[0] returns at once:
 * that is every start of nsinspect but the zygote's. */
__attribute__((constructor)) static void nsi_zygote(int argc, char **argv, char **envp)
{
	(void)envp;
	if (argc != 2 || !argv || !argv[0] || strcmp(argv[0], "nsinspect-zygote") != 0)
		return;
	struct nsi_zmsg hello;
	memset(&hello, 0, sizeof(hello));
	hello.op = NSI_Z_HELLO;
	hello.probe_word = (uint64_t)(uintptr_t)&nsi_probe_word;
	const char *failed = "";
	if (strcmp(argv[1], "lab") == 0)
		hello.ret = nsi_z_lab(&failed);
	else if (strcmp(argv[1], "host") == 0 || strcmp(argv[1], "timens") == 0) {
		hello.ret = prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) < 0 ? -errno : 0;
		failed = "becoming the subreaper";
		if (hello.ret == 0 && strcmp(argv[1], "timens") == 0) {
			hello.ret = unshare(CLONE_NEWTIME) < 0 ? -errno : 0;
			failed = "creating the lab's time namespace";
		}
	} else {
		hello.ret = -EINVAL;
		failed = "reading the zygote's mode (argv[1] is neither lab, host nor timens)";
	}
	if (hello.ret < 0) {
		snprintf(hello.str, sizeof(hello.str), "%s", failed);
		nsi_z_send(&hello, -1);
		_exit(1);
	}
	nsi_z_send(&hello, -1);
	nsi_z_serve();
	nsi_z_reap();
	_exit(0);
}
