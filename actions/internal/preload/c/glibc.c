/*
 * glibc.c: what the library reads inside glibc's objects. Their layouts
 * are fixed by glibc's ABI (the static initializers write them), the same
 * on x86_64 and aarch64 from glibc 2.34, when libpthread joined libc.
 */
#include "internal.h"

#include <stddef.h>

/* struct __pthread_mutex_s: int __lock; unsigned __count; int __owner;
 * unsigned __nusers; int __kind; ... */
struct mutex_words {
	int lock;
	unsigned count;
	int owner;
	unsigned nusers;
	int kind;
};

_Static_assert(sizeof(pthread_mutex_t) >= sizeof(struct mutex_words), "pthread_mutex_t is smaller than glibc's");

#define MUTEX_PSHARED_BIT 128 /* glibc's PTHREAD_MUTEX_PSHARED_BIT */

static const struct mutex_words *words(const pthread_mutex_t *m) { return (const struct mutex_words *)m; }

int pm_mutex_shared(const pthread_mutex_t *m) { return (words(m)->kind & MUTEX_PSHARED_BIT) != 0; }

/* pm_mutex_type is PTHREAD_MUTEX_NORMAL, _RECURSIVE, _ERRORCHECK or
 * _ADAPTIVE_NP (glibc's PTHREAD_MUTEX_KIND_MASK_NP). */
int pm_mutex_type(const pthread_mutex_t *m) { return words(m)->kind & 3; }

/* pm_mutex_word is the lock word and the owner's thread id, for a mutex
 * pmrun sees for the first time already locked. */
int64_t pm_mutex_word(const pthread_mutex_t *m)
{
	const struct mutex_words *w = words(m);
	return (int64_t)(uint32_t)__atomic_load_n(&w->lock, __ATOMIC_RELAXED) |
	       (int64_t)(uint32_t)w->owner << 32;
}
