/*
 * condition.c: three consumers each take an item from a shared pool
 * that a producer fills, one item at a time, waiting on a condition
 * variable while it is empty. A consumer that tests the pool with `if`
 * may be woken, then overtaken by another consumer, which takes the item
 * first: it goes on with an empty pool (pthread_cond_wait returns holding
 * the mutex, but the condition may no longer hold when it does).
 *
 * Built with -DFIXED, the consumer tests again in a `while`.
 */
#include <assert.h>
#include <pthread.h>

#define CONSUMERS 3

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nonempty = PTHREAD_COND_INITIALIZER;
static int items;

static void *consumer(void *arg)
{
	pthread_mutex_lock(&lock);
#ifdef FIXED
	while (items == 0)
#else
	if (items == 0)
#endif
		pthread_cond_wait(&nonempty, &lock);
	assert(items > 0);
	items--;
	pthread_mutex_unlock(&lock);
	return arg;
}

static void *producer(void *arg)
{
	for (int i = 0; i < CONSUMERS; i++) {
		pthread_mutex_lock(&lock);
		items++;
		pthread_cond_signal(&nonempty);
		pthread_mutex_unlock(&lock);
	}
	return arg;
}

int main(void)
{
	pthread_t c[CONSUMERS], p;
	for (int i = 0; i < CONSUMERS; i++)
		pthread_create(&c[i], NULL, consumer, NULL);
	pthread_create(&p, NULL, producer, NULL);
	for (int i = 0; i < CONSUMERS; i++)
		pthread_join(c[i], NULL);
	pthread_join(p, NULL);
	return 0;
}
