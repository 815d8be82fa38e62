/* A bounded buffer on three semaphores. With SWAPPED the producer takes
 * the mutex before waiting for room: a full buffer deadlocks. */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#define N 2
#define ITEMS 6

static int buf[N], in, out;
static sem_t mutex, empty, filled;

static void *producer(void *arg)
{
	for (int i = 0; i < ITEMS; i++) {
#ifdef SWAPPED
		sem_wait(&mutex);
		sem_wait(&empty);
#else
		sem_wait(&empty);
		sem_wait(&mutex);
#endif
		buf[in] = i;
		in = (in + 1) % N;
		sem_post(&mutex);
		sem_post(&filled);
	}
	return arg;
}

static void *consumer(void *arg)
{
	long sum = 0;
	for (int i = 0; i < ITEMS; i++) {
		sem_wait(&filled);
		sem_wait(&mutex);
		sum += buf[out];
		out = (out + 1) % N;
		sem_post(&mutex);
		sem_post(&empty);
	}
	printf("sum %ld\n", sum);
	return arg;
}

int main(void)
{
	pthread_t p, c;
	sem_init(&mutex, 0, 1);
	sem_init(&empty, 0, N);
	sem_init(&filled, 0, 0);
	pthread_create(&p, NULL, producer, NULL);
	pthread_create(&c, NULL, consumer, NULL);
	pthread_join(p, NULL);
	pthread_join(c, NULL);
	return 0;
}
