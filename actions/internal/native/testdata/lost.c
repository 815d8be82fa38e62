/* Two threads add to a counter without a lock; pmrun_point marks the
 * moment between the read and the write. */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include "pmrun.h"

static int count;

#ifdef NOPOINT
#define pmrun_point(name) ((void)0)
#endif
#ifdef LOOKS_LIKE
/* A function of the name a Go or a Rust program has, for the test that
 * pmrun refuses one. */
#define STR2(x) #x
#define STR(x) STR2(x)
void looks_like(void) __asm__(STR(LOOKS_LIKE));
void looks_like(void) {}
#endif

static void *add(void *arg)
{
	for (int i = 0; i < 2; i++) {
		int v = count;
		pmrun_point("read");
		count = v + 1;
	}
	return arg;
}

int main(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, add, NULL);
	pthread_create(&b, NULL, add, NULL);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	printf("count %d\n", count);
	assert(count == 4);
	return 0;
}
