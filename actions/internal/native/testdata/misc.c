/* Each mode exercises one kind of call: MODE=misuse unlocks a mutex
 * another thread holds; rwlock, trylock and timed check what they
 * return; exit exits with status 3 and prints. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t s;
static int readers, writers;

static void *holder(void *arg)
{
	pthread_mutex_lock(&m);
	return arg; /* ends holding m */
}

static void *reader(void *arg)
{
	pthread_rwlock_rdlock(&rw);
	__atomic_fetch_add(&readers, 1, __ATOMIC_RELAXED);
	assert(writers == 0);
	sched_yield();
	__atomic_fetch_sub(&readers, 1, __ATOMIC_RELAXED);
	pthread_rwlock_unlock(&rw);
	return arg;
}

static void *writer(void *arg)
{
	pthread_rwlock_wrlock(&rw);
	writers++;
	assert(readers == 0 && writers == 1);
	sched_yield();
	writers--;
	pthread_rwlock_unlock(&rw);
	return arg;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	pthread_t a, b, c;
	if (!strcmp(mode, "misuse")) {
		pthread_create(&a, NULL, holder, NULL);
		pthread_join(a, NULL);
		pthread_mutex_unlock(&m);
	} else if (!strcmp(mode, "rwlock")) {
		pthread_create(&a, NULL, reader, NULL);
		pthread_create(&b, NULL, reader, NULL);
		pthread_create(&c, NULL, writer, NULL);
		pthread_join(a, NULL);
		pthread_join(b, NULL);
		pthread_join(c, NULL);
	} else if (!strcmp(mode, "trylock")) {
		pthread_create(&a, NULL, holder, NULL);
		pthread_join(a, NULL);
		assert(pthread_mutex_trylock(&m) == EBUSY);
		sem_init(&s, 0, 0);
		assert(sem_trywait(&s) == -1 && errno == EAGAIN);
	} else if (!strcmp(mode, "timed")) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += 3600;
		sem_init(&s, 0, 0);
		assert(sem_timedwait(&s, &t) == -1 && errno == ETIMEDOUT);
		pthread_create(&a, NULL, holder, NULL);
		pthread_join(a, NULL);
		assert(pthread_mutex_timedlock(&m, &t) == ETIMEDOUT);
	} else if (!strcmp(mode, "exit")) {
		puts("exiting with 3");
		exit(3);
	}
	puts("done");
	return 0;
}
