/*
 * cref: the C reference for nsinspect's experiment benchmarks.
 *
 * One experiment as a C program started fresh would make it: clone3(2)
 * with every namespace flag (CLONE_NEWTIME needs clone3: in clone(2) its
 * bit is CSIGNAL's), the six kcmp(2) comparisons nsinspect reports
 * (files, fs, vm, sighand, io, sysvsem), a stat(2) of the ten
 * /proc/PID/ns links of each side, then SIGKILL and wait for the child.
 * Nothing is printed unless a call fails, so the time is the kernel's.
 *
 * bench/clone-vs-unshare.sh builds it (cc -O2) and times it beside
 * nsinspect in one run: each target of issue 14 is a ratio to it.
 *
 * usage: cref [-n N]   (N experiments in one process; default 1)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/kcmp.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static const char *const ns[] = {"cgroup", "ipc", "mnt", "net", "pid", "pid_for_children",
				 "time", "time_for_children", "user", "uts"};
static const int kinds[] = {KCMP_FILES, KCMP_FS, KCMP_VM, KCMP_SIGHAND, KCMP_IO, KCMP_SYSVSEM};

static void die(const char *what)
{
	fprintf(stderr, "cref: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void one(void)
{
	int p[2];
	if (pipe(p) < 0)
		die("pipe");
	struct clone_args a;
	memset(&a, 0, sizeof a);
	a.flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWUSER |
		  CLONE_NEWCGROUP | CLONE_NEWTIME;
	a.exit_signal = SIGCHLD;
	long pid = syscall(SYS_clone3, &a, sizeof a);
	if (pid < 0)
		die("clone3");
	if (pid == 0) { /* the child parks until it is killed */
		char c;
		close(p[1]);
		while (read(p[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(p[0]);
	pid_t self = getpid();
	for (unsigned i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (syscall(SYS_kcmp, self, (pid_t)pid, kinds[i], 0, 0) < 0)
			die("kcmp");
	char path[64];
	struct stat st;
	pid_t sides[2] = {self, (pid_t)pid};
	for (int s = 0; s < 2; s++)
		for (unsigned i = 0; i < sizeof ns / sizeof ns[0]; i++) {
			snprintf(path, sizeof path, "/proc/%d/ns/%s", sides[s], ns[i]);
			if (stat(path, &st) < 0)
				die(path);
		}
	kill((pid_t)pid, SIGKILL);
	close(p[1]);
	if (waitpid((pid_t)pid, NULL, 0) < 0)
		die("waitpid");
}

int main(int argc, char **argv)
{
	long n = 1;
	if (argc == 3 && strcmp(argv[1], "-n") == 0)
		n = strtol(argv[2], NULL, 10);
	else if (argc != 1) {
		fprintf(stderr, "cref: usage: cref [-n N]\n");
		return 2;
	}
	for (long i = 0; i < n; i++)
		one();
	return 0;
}
