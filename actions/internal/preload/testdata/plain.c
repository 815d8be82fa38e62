/* Two threads counting under a mutex, and a semaphore and a condition:
 * with the library loaded and no pmrun, it runs as without it. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <unistd.h>
#include "pmrun.h"

static int count;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static sem_t done;

static void *work(void *arg)
{
	for (int i = 0; i < 2000; i++) {
		pthread_mutex_lock(&m);
		int v = count;
		pmrun_point("read");
		count = v + 1;
		pthread_cond_signal(&c);
		pthread_mutex_unlock(&m);
		if (i % 500 == 0)
			sched_yield();
	}
	sem_post(&done);
	return arg;
}

int main(void)
{
	pthread_t a, b;
	sem_init(&done, 0, 0);
	pthread_create(&a, NULL, work, NULL);
	pthread_create(&b, NULL, work, NULL);
	pthread_mutex_lock(&m);
	while (count < 4000)
		pthread_cond_wait(&c, &m);
	pthread_mutex_unlock(&m);
	sem_wait(&done);
	sem_wait(&done);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	usleep(100);
	printf("count %d\n", count);
	return 0;
}
