/*
 * Baseline for the prodcons rows of make bench: the textbook bounded buffer with
 * POSIX threads and three sem_t (mutex, empty, filled).
 *
 *   prodcons ITEMS BUFFER [threads|processes [PRODUCERS CONSUMERS]]
 *
 * threads: the workers are threads of one process; processes: each worker is
 * a forked process, the semaphores and ring in MAP_SHARED memory. One
 * producer and one consumer unless PRODUCERS and CONSUMERS say otherwise;
 * the producers share the items out as pmrun does (the first ITEMS%PRODUCERS
 * make one more), and several consumers take a ticket per item, as pmrun's
 * do, so each knows when to stop.
 *
 * Prints "items/s RATE" on stdout.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct shared {
	sem_t mutex, empty, filled;
	unsigned in, out;
	unsigned long claimed; /* consumer tickets, taken with an atomic add */
	unsigned long sum;     /* of every item consumed, under the mutex */
	unsigned ring[];
};

static struct shared *sh;
static unsigned long items;
static unsigned buffer, producers = 1, consumers = 1;

static void *producer(void *arg) {
	unsigned long p = (unsigned long)arg;
	unsigned long base = items / producers, rem = items % producers;
	unsigned long first = p * base + (p < rem ? p : rem);
	unsigned long n = base + (p < rem);
	for (unsigned long i = first + 1; i <= first + n; i++) {
		sem_wait(&sh->empty);
		sem_wait(&sh->mutex);
		sh->ring[sh->in] = (unsigned)i;
		sh->in = (sh->in + 1) % buffer;
		sem_post(&sh->mutex);
		sem_post(&sh->filled);
	}
	return NULL;
}

static void *consumer(void *arg) {
	(void)arg;
	unsigned long sum = 0, mine = 0;
	/* A lone consumer needs no tickets: it takes every item. */
	while (consumers == 1 ? mine++ < items : __atomic_add_fetch(&sh->claimed, 1, __ATOMIC_SEQ_CST) <= items) {
		sem_wait(&sh->filled);
		sem_wait(&sh->mutex);
		sum += sh->ring[sh->out];
		sh->out = (sh->out + 1) % buffer;
		sem_post(&sh->mutex);
		sem_post(&sh->empty);
	}
	__atomic_add_fetch(&sh->sum, sum, __ATOMIC_SEQ_CST);
	return NULL;
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: %s ITEMS BUFFER [threads|processes [PRODUCERS CONSUMERS]]\n", argv[0]);
		return 2;
	}
	items = strtoul(argv[1], NULL, 10);
	buffer = (unsigned)strtoul(argv[2], NULL, 10);
	int procs = argc > 3 && strcmp(argv[3], "processes") == 0;
	if (argc > 5) {
		producers = (unsigned)strtoul(argv[4], NULL, 10);
		consumers = (unsigned)strtoul(argv[5], NULL, 10);
	}
	if (buffer == 0 || producers == 0 || consumers == 0 || producers > 1024 || consumers > 1024) {
		fprintf(stderr, "%s: buffer, producers and consumers must be positive (workers at most 1024)\n", argv[0]);
		return 2;
	}
	size_t size = sizeof(struct shared) + buffer * sizeof(unsigned);
	sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	sem_init(&sh->mutex, procs, 1);
	sem_init(&sh->empty, procs, buffer);
	sem_init(&sh->filled, procs, 0);
	unsigned n = producers + consumers;
	pid_t pids[2048];
	pthread_t threads[2048];
	double start = now();
	/* Consumers first, so they are waiting when the producers start. */
	for (unsigned i = 0; i < n; i++) {
		int isprod = i >= consumers;
		void *(*fn)(void *) = isprod ? producer : consumer;
		void *arg = (void *)(unsigned long)(isprod ? i - consumers : i - 0);
		if (procs) {
			pids[i] = fork();
			if (pids[i] < 0) {
				perror("fork");
				return 1;
			}
			if (pids[i] == 0) {
				fn(arg);
				_exit(0);
			}
		} else if (pthread_create(&threads[i], NULL, fn, arg) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (procs)
			waitpid(pids[i], NULL, 0);
		else
			pthread_join(threads[i], NULL);
	}
	double secs = now() - start;
	if (sh->sum != items * (items + 1) / 2) {
		fprintf(stderr, "checksum %lu, want %lu\n", sh->sum, items * (items + 1) / 2);
		return 1;
	}
	printf("items/s %.0f\n", items / secs);
	return 0;
}
