/*
 * bounded_buffer.c: a producer and a consumer share a buffer of N slots,
 * guarded by three semaphores: mutex (1), empty (N free slots) and
 * filled (0 items). This producer takes the mutex before it waits for a
 * free slot: with the buffer full it waits on empty holding the mutex,
 * and the consumer, who would free a slot, waits for the mutex.
 *
 * Built with -DFIXED, the producer waits for a slot first, then takes the
 * mutex (as the consumer does with filled).
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>

#define N 2
#define ITEMS 5

static int buf[N], in, out;
static sem_t mutex, empty, filled;

static void *producer(void *arg)
{
	for (int i = 1; i <= ITEMS; i++) {
#ifdef FIXED
		sem_wait(&empty);
		sem_wait(&mutex);
#else
		sem_wait(&mutex);
		sem_wait(&empty);
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
	int sum = 0;
	for (int i = 0; i < ITEMS; i++) {
		sem_wait(&filled);
		sem_wait(&mutex);
		sum += buf[out];
		out = (out + 1) % N;
		sem_post(&mutex);
		sem_post(&empty);
	}
	printf("sum = %d\n", sum);
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
