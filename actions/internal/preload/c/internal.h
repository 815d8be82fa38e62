/*
 * internal.h: what the files of pmrun's interposition library share.
 *
 * Each intercepted function does the same three things. When pmrun is not
 * there at all (no control block when the library was loaded), its first
 * statement, DORMANT, jumps to the real function: a load, a branch and
 * the jump, nothing else. If pmrun does not control this thread (a thread
 * pmrun does not know, a call made from inside the library, pmrun gone),
 * it calls the real function at once (REAL). Otherwise it asks pmrun for
 * the turn (pm_ask), which answers once the call will not block (the
 * real call is then made) or with what the call returns (the library
 * emulates it).
 */
#ifndef PMRUN_INTERNAL_H
#define PMRUN_INTERNAL_H

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include "pmrun_ctl.h"

/* The library's own state is hidden (reached without the GOT: the check a
 * call makes when pmrun is absent is one load and a branch), and its
 * thread-local variables live in static TLS (built -ftls-model=initial-exec:
 * no __tls_get_addr call). */
#define PM_HIDDEN __attribute__((visibility("hidden")))

extern struct pmrun_hdr *pm_hdr PM_HIDDEN; /* NULL: nobody controls us */
extern __thread int pm_slot PM_HIDDEN;     /* this thread's slot, -1: none */
extern __thread int pm_depth PM_HIDDEN;    /* > 0: inside the library */

/* pm_on says whether pmrun controls this call. */
static inline int pm_on(void)
{
	return __builtin_expect(pm_hdr != 0, 0) && pm_slot >= 0 && pm_depth == 0 &&
	       !__atomic_load_n(&pm_hdr->closed, __ATOMIC_RELAXED);
}

/* pm_self returns this thread's slot. */
static inline struct pmrun_slot *pm_self(void)
{
	return (struct pmrun_slot *)((char *)pm_hdr + PMRUN_SLOTS_OFFSET) + pm_slot;
}

/* A request being built in this thread's slot. */
struct pm_req {
	uint32_t op, flags;
	const void *obj, *obj2;
	int64_t arg, arg2;
	const char *text;
	void *site;
};

/* pm_ask sends a request and waits for its answer: the reply (0, an
 * errno, or PMRUN_FREE), with reply_arg in *arg if arg is not NULL. */
int pm_ask(const struct pm_req *r, int64_t *arg) PM_HIDDEN;
/* pm_tell sends a note that needs no answer and does not wait. */
void pm_tell(const struct pm_req *r) PM_HIDDEN;
/* pm_slot_at returns slot i. */
struct pmrun_slot *pm_slot_at(int i) PM_HIDDEN;
/* pm_bias is the main program's load bias, sent with its first request. */
int64_t pm_bias(void) PM_HIDDEN;
/* pm_attach_child makes this process, a child just forked, the thread of
 * slot i, and waits for its first turn. */
void pm_attach_child(int i) PM_HIDDEN;
/* pm_wait_start waits for the first turn of a new thread in slot i. */
void pm_wait_start(int i) PM_HIDDEN;

/* REAL(name) is the next definition of name (libc's), looked up once. */
#define REAL(name)                                                         \
	({                                                                 \
		static __typeof__(name) *real_;                            \
		if (!real_)                                                \
			real_ = (__typeof__(name) *)dlsym(RTLD_NEXT, #name); \
		real_;                                                     \
	})

/* DORMANT(name, args...) is the first statement of the function that
 * stands in for name: when the library found no control block at load
 * (pm_hdr stays NULL for the life of the image), it returns name(args)
 * through a pointer the constructor set (core.c's resolve_dormant), the only
 * work the library adds to the call; there is no check of pm_hdr, of a
 * thread-local or of a lazy lookup on that path. The pointer is NULL
 * before the constructor has run and whenever pmrun is there: the
 * function then goes on to its own body. Each use records the pointer
 * and the name in section pm_dormant, which the constructor walks. */
struct pm_dormant {
	const char *name;
	void **fn;
};

#define DORMANT(name, ...)                                                            \
	do {                                                                          \
		static __typeof__(name) *dormant_;                                    \
		static struct pm_dormant dormant_entry_                               \
			__attribute__((section("pm_dormant"), used)) = {#name, (void **)&dormant_}; \
		__typeof__(name) *f_ = __atomic_load_n(&dormant_, __ATOMIC_RELAXED);  \
		if (__builtin_expect(f_ != 0, 1))                                     \
			return f_(__VA_ARGS__);                                       \
	} while (0)

/* PM_CONTROLLED marks NAME_controlled, the body of the function that
 * stands in for NAME past its DORMANT: kept out of line, so that the
 * dormant path saves no register and makes no stack frame. It gets the
 * call site (SITE) from NAME when it needs it. */
#define PM_CONTROLLED static __attribute__((noinline))

#define SITE __builtin_return_address(0)

/* Reading glibc's objects (x86_64 and aarch64 glibc 2.34+, whose static
 * initializers fix these layouts): whether an object is process-shared,
 * and a mutex's type and owner. */
int pm_mutex_shared(const pthread_mutex_t *m) PM_HIDDEN;
int pm_mutex_type(const pthread_mutex_t *m) PM_HIDDEN;
int64_t pm_mutex_word(const pthread_mutex_t *m) PM_HIDDEN;

#endif
