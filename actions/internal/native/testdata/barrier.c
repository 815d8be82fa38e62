/* Three workers in two rounds meet at a barrier; each checks that all
 * wrote the round before it reads. Without the barrier (NOBARRIER) a
 * worker may read too early. */
#include <assert.h>
#include <pthread.h>

#define W 3
static pthread_barrier_t b;
static int done[W];
static int serials;

static void *worker(void *arg)
{
	int me = (int)(long)arg;
	for (int round = 1; round <= 2; round++) {
		done[me] = round;
#ifndef NOBARRIER
		if (pthread_barrier_wait(&b) == PTHREAD_BARRIER_SERIAL_THREAD)
			__atomic_fetch_add(&serials, 1, __ATOMIC_RELAXED);
#else
		sched_yield();
#endif
		for (int i = 0; i < W; i++)
			assert(done[i] >= round);
#ifndef NOBARRIER
		pthread_barrier_wait(&b);
#endif
	}
	return NULL;
}

int main(void)
{
	pthread_t t[W];
	pthread_barrier_init(&b, NULL, W);
	for (long i = 0; i < W; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < W; i++)
		pthread_join(t[i], NULL);
#ifndef NOBARRIER
	assert(serials == 2);
#endif
	return 0;
}
