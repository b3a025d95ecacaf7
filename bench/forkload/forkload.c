/*
 * forkload: the load of bench/watch-load.sh, made with no more than the
 * system calls it names, so that the tracer's cost is all there is to see.
 *
 *   forkload paced RATE SECONDS   fork (the child exits at once) and reap,
 *                                 RATE times a second on an absolute clock
 *   forkload loop N               fork and reap N times, unpaced
 *   forkload getppid N            N getppid(2) calls
 *   forkload burst N GO DONE      wait until file GO exists, then fork N
 *                                 children (each exits at once) and reap
 *                                 them, then create file DONE
 *
 * It prints one line: what it did, how many, and the seconds it took.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void fork_reap(void)
{
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	if (p < 0) {
		fprintf(stderr, "forkload: fork: %s\n", strerror(errno));
		exit(1);
	}
	while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
		;
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0) {
		fprintf(stderr, "forkload: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	double t0;
	long n;

	if (argc >= 4 && strcmp(argv[1], "paced") == 0) {
		long rate = atol(argv[2]), secs = atol(argv[3]);
		struct timespec next;

		if (rate <= 0 || secs <= 0)
			goto usage;
		n = rate * secs;
		clock_gettime(CLOCK_MONOTONIC, &next);
		t0 = now();
		for (long i = 0; i < n; i++) {
			fork_reap();
			next.tv_nsec += 1000000000L / rate;
			while (next.tv_nsec >= 1000000000L) {
				next.tv_nsec -= 1000000000L;
				next.tv_sec++;
			}
			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		}
		printf("paced %ld %.3f\n", n, now() - t0);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "loop") == 0 && (n = atol(argv[2])) > 0) {
		t0 = now();
		for (long i = 0; i < n; i++)
			fork_reap();
		printf("loop %ld %.3f\n", n, now() - t0);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "getppid") == 0 && (n = atol(argv[2])) > 0) {
		t0 = now();
		for (long i = 0; i < n; i++)
			syscall(SYS_getppid);
		printf("getppid %ld %.3f\n", n, now() - t0);
		return 0;
	}
	if (argc >= 5 && strcmp(argv[1], "burst") == 0 && (n = atol(argv[2])) > 0) {
		for (int i = 0; access(argv[3], F_OK) != 0; i++) {
			if (i > 60000) {
				fprintf(stderr, "forkload: %s did not appear in 60 s\n", argv[3]);
				return 1;
			}
			usleep(1000);
		}
		t0 = now();
		for (long i = 0; i < n; i++)
			fork_reap();
		touch(argv[4]);
		printf("burst %ld %.3f\n", n, now() - t0);
		return 0;
	}
usage:
	fprintf(stderr, "usage: forkload paced RATE SECONDS | loop N | getppid N | burst N GO DONE\n");
	return 2;
}
