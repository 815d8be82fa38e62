/*
 * barrier.c: W workers each compute a part, then wait at a barrier until
 * all have, then read everyone's part. This home-made barrier tests the
 * count outside the mutex and waits with `if`: a worker may see the
 * count short, be overtaken by the last worker's broadcast (nobody waits
 * yet), and then wait for a broadcast that already happened: a lost
 * wake-up, and a deadlock.
 *
 * Built with -DFIXED, the workers use pthread_barrier_wait.
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>

#define W 3

static int part[W];
#ifdef FIXED
static pthread_barrier_t barrier;
#else
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t all_here = PTHREAD_COND_INITIALIZER;
static int arrived;
#endif

static void wait_for_all(void)
{
#ifdef FIXED
	pthread_barrier_wait(&barrier);
#else
	pthread_mutex_lock(&lock);
	arrived++;
	int last = arrived == W;
	pthread_mutex_unlock(&lock);
	if (last) {
		pthread_cond_broadcast(&all_here);
		return;
	}
	pthread_mutex_lock(&lock);
	pthread_cond_wait(&all_here, &lock);
	pthread_mutex_unlock(&lock);
#endif
}

static void *worker(void *arg)
{
	int me = (int)(long)arg;
	part[me] = me + 1;
	wait_for_all();
	int sum = 0;
	for (int i = 0; i < W; i++)
		sum += part[i];
	assert(sum == W * (W + 1) / 2);
	return NULL;
}

int main(void)
{
	pthread_t t[W];
#ifdef FIXED
	pthread_barrier_init(&barrier, NULL, W);
#endif
	for (long i = 0; i < W; i++)
		pthread_create(&t[i], NULL, worker, (void *)i);
	for (int i = 0; i < W; i++)
		pthread_join(t[i], NULL);
	puts("every worker saw every part");
	return 0;
}
