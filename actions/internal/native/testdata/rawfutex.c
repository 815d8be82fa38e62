/* A thread waits on a raw futex, as Go's and Rust's runtimes and C++20's
 * atomic wait do: pmrun's library never sees it. */
#include <linux/futex.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

static int word;

static void *waiter(void *arg)
{
	while (__atomic_load_n(&word, __ATOMIC_ACQUIRE) == 0)
		syscall(SYS_futex, &word, FUTEX_WAIT, 0, NULL, NULL, 0);
	return arg;
}

static void *waker(void *arg)
{
	__atomic_store_n(&word, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &word, FUTEX_WAKE, 1, NULL, NULL, 0);
	return arg;
}

int main(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, waiter, NULL);
	sched_yield();
	pthread_create(&b, NULL, waker, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	return 0;
}
