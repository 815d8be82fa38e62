/*
 * Baseline for DESIGN §7's prodcons rows: the textbook bounded buffer with
 * POSIX threads and three sem_t (mutex, empty, filled).
 *
 *   prodcons ITEMS BUFFER            threads of one process
 *   prodcons ITEMS BUFFER processes  producer and consumer forked, the
 *                                    semaphores and ring in MAP_SHARED memory
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
	unsigned long sum;
	unsigned ring[];
};

static struct shared *sh;
static unsigned long items;
static unsigned buffer;

static void *producer(void *arg) {
	(void)arg;
	for (unsigned long i = 1; i <= items; i++) {
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
	unsigned long sum = 0;
	for (unsigned long i = 0; i < items; i++) {
		sem_wait(&sh->filled);
		sem_wait(&sh->mutex);
		sum += sh->ring[sh->out];
		sh->out = (sh->out + 1) % buffer;
		sem_post(&sh->mutex);
		sem_post(&sh->empty);
	}
	sh->sum = sum;
	return NULL;
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	if (argc < 3) {
		fprintf(stderr, "usage: %s ITEMS BUFFER [processes]\n", argv[0]);
		return 2;
	}
	items = strtoul(argv[1], NULL, 10);
	buffer = (unsigned)strtoul(argv[2], NULL, 10);
	int procs = argc > 3 && strcmp(argv[3], "processes") == 0;
	size_t size = sizeof(struct shared) + buffer * sizeof(unsigned);
	sh = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	sem_init(&sh->mutex, procs, 1);
	sem_init(&sh->empty, procs, buffer);
	sem_init(&sh->filled, procs, 0);
	double start = now();
	if (procs) {
		pid_t p = fork();
		if (p == 0) {
			producer(NULL);
			_exit(0);
		}
		pid_t c = fork();
		if (c == 0) {
			consumer(NULL);
			_exit(0);
		}
		waitpid(p, NULL, 0);
		waitpid(c, NULL, 0);
	} else {
		pthread_t p, c;
		pthread_create(&c, NULL, consumer, NULL);
		pthread_create(&p, NULL, producer, NULL);
		pthread_join(p, NULL);
		pthread_join(c, NULL);
	}
	double secs = now() - start;
	if (sh->sum != items * (items + 1) / 2) {
		fprintf(stderr, "checksum %lu, want %lu\n", sh->sum, items * (items + 1) / 2);
		return 1;
	}
	printf("items/s %.0f\n", items / secs);
	return 0;
}
