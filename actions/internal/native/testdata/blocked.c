/* A thread reads a pipe that another thread writes only after a
 * semaphore: if the reader goes first it blocks in read(), a call pmrun
 * does not control (with POLL, in poll() first). */
#include <pthread.h>
#include <semaphore.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

static int fds[2];
static sem_t go;

static void *reader(void *arg)
{
	char c;
	sem_post(&go);
#ifdef POLL
	struct pollfd p = {.fd = fds[0], .events = POLLIN};
	if (poll(&p, 1, -1) != 1)
		return (void *)1;
#endif
	if (read(fds[0], &c, 1) != 1)
		return (void *)1;
	return arg;
}

static void *writer(void *arg)
{
	sem_wait(&go);
	write(fds[1], "x", 1);
	return arg;
}

int main(void)
{
	pthread_t r, w;
	pipe(fds);
	sem_init(&go, 0, 0);
	pthread_create(&r, NULL, reader, NULL);
	pthread_create(&w, NULL, writer, NULL);
	pthread_join(r, NULL);
	pthread_join(w, NULL);
	puts("ok");
	return 0;
}
