/*
 * pipebench: the C baseline for pmrun's channel benchmarks (make bench).
 *
 * A forked writer sends COUNT messages of SIZE bytes into a pipe with one
 * write(2) per message; the parent reads with large reads until end of
 * file. The clock runs from the moment the parent tells the writer to
 * start until the last byte is read, so process start-up is not counted.
 *
 *   pipebench COUNT SIZE [PIPE_BYTES]
 *
 * PIPE_BYTES, if given, resizes the pipe with F_SETPIPE_SZ. Prints
 * "messages bytes seconds".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what) {
	perror(what);
	exit(1);
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: pipebench COUNT SIZE [PIPE_BYTES]\n");
		return 2;
	}
	long count = atol(argv[1]), size = atol(argv[2]);
	int data[2], go[2];
	if (pipe(data) < 0 || pipe(go) < 0)
		die("pipe");
	if (argc > 3 && fcntl(data[1], F_SETPIPE_SZ, atoi(argv[3])) < 0)
		die("F_SETPIPE_SZ");

	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		close(data[0]);
		close(go[1]);
		char *msg = malloc(size), c;
		memset(msg, 'x', size);
		if (read(go[0], &c, 1) != 1)
			die("read go");
		for (long i = 0; i < count; i++) {
			memcpy(msg, &i, sizeof i < (size_t)size ? sizeof i : (size_t)size);
			for (long off = 0; off < size;) {
				ssize_t n = write(data[1], msg + off, size - off);
				if (n < 0) {
					if (errno == EINTR)
						continue;
					die("write");
				}
				off += n;
			}
		}
		_exit(0);
	}
	close(data[1]);
	close(go[0]);
	size_t bufsize = 1 << 20;
	char *buf = malloc(bufsize);
	long long total = 0;
	double start = now();
	if (write(go[1], "g", 1) != 1)
		die("write go");
	for (;;) {
		ssize_t n = read(data[0], buf, bufsize);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (n == 0)
			break;
		total += n;
	}
	double secs = now() - start;
	int status;
	waitpid(pid, &status, 0);
	if (total != (long long)count * size || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "pipebench: read %lld bytes, want %lld\n", total, (long long)count * size);
		return 1;
	}
	printf("%ld %lld %.6f\n", count, total, secs);
	return 0;
}
