/*
 * processes.c: a parent and the child it forks each add to a counter in
 * memory they share (an anonymous MAP_SHARED mapping, which fork keeps
 * shared). Without a lock, an update is lost between a read and a write
 * of different processes, as between threads.
 *
 * Built with -DFIXED, a semaphore in the same shared memory, initialized
 * process-shared (sem_init's second argument), guards the counter; a
 * named semaphore (sem_open) would do as well. pmrun schedules both
 * processes, and knows the semaphore is one object in both.
 */
#include <assert.h>
#include <semaphore.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "pmrun.h"

#define ROUNDS 2

struct shared {
	sem_t lock;
	int count;
};

static void add(struct shared *s)
{
	for (int i = 0; i < ROUNDS; i++) {
#ifdef FIXED
		sem_wait(&s->lock);
#endif
		int v = s->count;
		pmrun_point("read");
		s->count = v + 1;
#ifdef FIXED
		sem_post(&s->lock);
#endif
	}
}

int main(void)
{
	struct shared *s = mmap(NULL, sizeof *s, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s == MAP_FAILED)
		return 2;
	sem_init(&s->lock, 1, 1);
	pid_t child = fork();
	if (child == 0) {
		add(s);
		_exit(0);
	}
	add(s);
	waitpid(child, NULL, 0);
	printf("count = %d\n", s->count);
	assert(s->count == 2 * ROUNDS);
	return 0;
}
