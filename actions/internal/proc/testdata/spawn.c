/* Baseline for BenchmarkSpawnWait: spawn and wait /bin/true N times with
 * posix_spawn + waitpid, and print the elapsed nanoseconds. */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv) {
	long n = argc > 1 ? atol(argv[1]) : 1000;
	char *args[] = {"/bin/true", NULL};
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < n; i++) {
		pid_t pid;
		int status;
		if (posix_spawn(&pid, args[0], NULL, NULL, args, environ) != 0) {
			perror("posix_spawn");
			return 1;
		}
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "waitpid: bad status\n");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("%lld\n", (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec));
	return 0;
}
