/* A parent and a child process share a counter and a semaphore in an
 * anonymous shared mapping (or a named semaphore with NAMED). Without
 * the semaphore (NOLOCK) an update is lost. */
#include <assert.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pmrun.h"

struct shared {
	sem_t lock;
	int count;
};

static sem_t *lock;

static void add(struct shared *s)
{
	for (int i = 0; i < 2; i++) {
#ifndef NOLOCK
		sem_wait(lock);
#endif
		int v = s->count;
		pmrun_point("read");
		s->count = v + 1;
#ifndef NOLOCK
		sem_post(lock);
#endif
	}
}

int main(void)
{
	struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
#ifdef NAMED
	char name[64];
	snprintf(name, sizeof name, "/pmrun-test-%d", getpid());
	lock = sem_open(name, O_CREAT | O_EXCL, 0600, 1);
	sem_unlink(name);
#else
	sem_init(&s->lock, 1, 1);
	lock = &s->lock;
#endif
	pid_t pid = fork();
	if (pid == 0) {
		add(s);
		_exit(0);
	}
	add(s);
	int status;
	waitpid(pid, &status, 0);
	printf("count %d\n", s->count);
	assert(s->count == 4);
	return 0;
}
