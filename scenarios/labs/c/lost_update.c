/*
 * lost_update.c: two threads add to a shared counter, each ROUNDS times.
 * "count = count + 1" is a read and a write: if the other thread writes
 * in between, one update is lost. pmrun_point marks that place, where
 * pmrun may run the other thread (a race on plain memory is not a
 * synchronization call, so pmrun would not see it otherwise).
 *
 * Built with -DFIXED, a mutex makes the read and the write one step.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include "pmrun.h"

#define ROUNDS 3

static int count;
#ifdef FIXED
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
#endif

static void *add(void *arg)
{
	for (int i = 0; i < ROUNDS; i++) {
#ifdef FIXED
		pthread_mutex_lock(&lock);
#endif
		int v = count;
		pmrun_point("read");
		count = v + 1;
#ifdef FIXED
		pthread_mutex_unlock(&lock);
#endif
	}
	return arg;
}

int main(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, add, NULL);
	pthread_create(&b, NULL, add, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("count = %d\n", count);
	assert(count == 2 * ROUNDS);
	return 0;
}
