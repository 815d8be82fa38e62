/* A thread spins with sched_yield until another sets a flag: PCT must not
 * let the spinner starve the setter. */
#include <pthread.h>
#include <sched.h>

static volatile int flag;

static void *spinner(void *arg)
{
	while (!flag)
		sched_yield();
	return arg;
}

static void *setter(void *arg)
{
	flag = 1;
	return arg;
}

int main(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, spinner, NULL);
	pthread_create(&b, NULL, setter, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
