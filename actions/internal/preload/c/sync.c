/*
 * sync.c: mutexes, condition variables, read-write locks, spin locks and
 * barriers. pmrun models each object, so it lets a thread go only when its
 * call will not block: the real lock is then taken at once, and the state
 * of the real objects stays what the program expects. Conditions and
 * barriers are emulated: pmrun decides who wakes and when, and the real
 * objects are never waited on.
 */
#include "internal.h"

#include <time.h>

static uint32_t shared_if(int yes) { return yes ? PMRUN_FLAG_SHARED : 0; }

static void init_note(const void *obj, int kind, int shared, int64_t value)
{
	if (pm_on())
		pm_ask(&(struct pm_req){.op = PMRUN_OP_INIT, .obj = obj, .arg = value, .arg2 = kind,
					.flags = shared_if(shared)}, 0);
}

static void destroy_note(const void *obj, int kind)
{
	if (pm_on())
		pm_ask(&(struct pm_req){.op = PMRUN_OP_DESTROY, .obj = obj, .arg2 = kind}, 0);
}

/* ask_lock asks for a point on a lock; > 0 is what the call returns. */
static int ask_lock(int op, const void *l, uint32_t flags, void *site)
{
	return pm_on() ? pm_ask(&(struct pm_req){.op = op, .obj = l, .flags = flags, .site = site}, 0) : 0;
}

/* Mutexes. */

int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
	int err = REAL(pthread_mutex_init)(m, a);
	if (!err)
		init_note(m, PMRUN_KIND_MUTEX, pm_mutex_shared(m), pm_mutex_type(m));
	return err;
}

int pthread_mutex_destroy(pthread_mutex_t *m)
{
	destroy_note(m, PMRUN_KIND_MUTEX);
	return REAL(pthread_mutex_destroy)(m);
}

static int ask_mutex(int op, pthread_mutex_t *m, uint32_t flags, void *site)
{
	return pm_ask(&(struct pm_req){.op = op, .obj = m, .flags = flags | shared_if(pm_mutex_shared(m)),
				       .arg = pm_mutex_type(m), .arg2 = pm_mutex_word(m), .site = site}, 0);
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
	if (pm_on()) {
		int r = ask_mutex(PMRUN_OP_MUTEX_LOCK, m, 0, SITE);
		if (r > 0)
			return r;
	}
	return REAL(pthread_mutex_lock)(m);
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
	if (pm_on()) {
		int r = ask_mutex(PMRUN_OP_MUTEX_TRYLOCK, m, 0, SITE);
		if (r > 0)
			return r;
	}
	return REAL(pthread_mutex_trylock)(m);
}

int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *t)
{
	if (pm_on()) {
		int r = ask_mutex(PMRUN_OP_MUTEX_LOCK, m, PMRUN_FLAG_TIMED, SITE);
		if (r > 0)
			return r;
	}
	return REAL(pthread_mutex_timedlock)(m, t);
}

int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t c, const struct timespec *t)
{
	if (pm_on()) {
		int r = ask_mutex(PMRUN_OP_MUTEX_LOCK, m, PMRUN_FLAG_TIMED, SITE);
		if (r > 0)
			return r;
	}
	return REAL(pthread_mutex_clocklock)(m, c, t);
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
	if (pm_on()) {
		int r = ask_mutex(PMRUN_OP_MUTEX_UNLOCK, m, 0, SITE);
		if (r > 0)
			return r;
	}
	return REAL(pthread_mutex_unlock)(m);
}

/* Condition variables: a wait is two points, releasing the mutex and
 * queueing, then (once signalled, or timed out when nothing else can
 * run) taking the mutex back. */

int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
	int err = REAL(pthread_cond_init)(c, a);
	int shared = 0;
	if (!err && a)
		pthread_condattr_getpshared(a, &shared);
	if (!err)
		init_note(c, PMRUN_KIND_COND, shared == PTHREAD_PROCESS_SHARED, 0);
	return err;
}

int pthread_cond_destroy(pthread_cond_t *c)
{
	destroy_note(c, PMRUN_KIND_COND);
	return REAL(pthread_cond_destroy)(c);
}

/* cond_wait returns -1 when pmrun let the call go free. */
static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, uint32_t flags, void *site)
{
	flags |= shared_if(pm_mutex_shared(m));
	int r = pm_ask(&(struct pm_req){.op = PMRUN_OP_COND_WAIT, .obj = c, .obj2 = m, .flags = flags, .site = site}, 0);
	if (r == PMRUN_FREE)
		return -1;
	if (r)
		return r;
	REAL(pthread_mutex_unlock)(m);
	r = pm_ask(&(struct pm_req){.op = PMRUN_OP_COND_REACQ, .obj = c, .obj2 = m, .flags = flags, .site = site}, 0);
	REAL(pthread_mutex_lock)(m);
	return r == PMRUN_FREE ? 0 : r;
}

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	if (pm_on()) {
		int r = cond_wait(c, m, 0, SITE);
		if (r >= 0)
			return r;
	}
	return REAL(pthread_cond_wait)(c, m);
}

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
	if (pm_on()) {
		int r = cond_wait(c, m, PMRUN_FLAG_TIMED, SITE);
		if (r >= 0)
			return r;
	}
	return REAL(pthread_cond_timedwait)(c, m, t);
}

int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t k, const struct timespec *t)
{
	if (pm_on()) {
		int r = cond_wait(c, m, PMRUN_FLAG_TIMED, SITE);
		if (r >= 0)
			return r;
	}
	return REAL(pthread_cond_clockwait)(c, m, k, t);
}

int pthread_cond_signal(pthread_cond_t *c)
{
	if (pm_on() && ask_lock(PMRUN_OP_COND_SIGNAL, c, 0, SITE) != PMRUN_FREE)
		return 0;
	return REAL(pthread_cond_signal)(c);
}

int pthread_cond_broadcast(pthread_cond_t *c)
{
	if (pm_on() && ask_lock(PMRUN_OP_COND_BROADCAST, c, 0, SITE) != PMRUN_FREE)
		return 0;
	return REAL(pthread_cond_broadcast)(c);
}

/* Read-write locks (pmrun models glibc's default: readers first). */

int pthread_rwlock_init(pthread_rwlock_t *l, const pthread_rwlockattr_t *a)
{
	int err = REAL(pthread_rwlock_init)(l, a);
	int shared = 0;
	if (!err && a)
		pthread_rwlockattr_getpshared(a, &shared);
	if (!err)
		init_note(l, PMRUN_KIND_RWLOCK, shared == PTHREAD_PROCESS_SHARED, 0);
	return err;
}

int pthread_rwlock_destroy(pthread_rwlock_t *l)
{
	destroy_note(l, PMRUN_KIND_RWLOCK);
	return REAL(pthread_rwlock_destroy)(l);
}

int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
	int r = ask_lock(PMRUN_OP_RW_RDLOCK, l, 0, SITE);
	return r > 0 ? r : REAL(pthread_rwlock_rdlock)(l);
}

int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	int r = ask_lock(PMRUN_OP_RW_WRLOCK, l, 0, SITE);
	return r > 0 ? r : REAL(pthread_rwlock_wrlock)(l);
}

int pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
	int r = ask_lock(PMRUN_OP_RW_TRYRDLOCK, l, 0, SITE);
	return r > 0 ? r : REAL(pthread_rwlock_tryrdlock)(l);
}

int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
	int r = ask_lock(PMRUN_OP_RW_TRYWRLOCK, l, 0, SITE);
	return r > 0 ? r : REAL(pthread_rwlock_trywrlock)(l);
}

int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
	int r = ask_lock(PMRUN_OP_RW_UNLOCK, l, 0, SITE);
	return r > 0 ? r : REAL(pthread_rwlock_unlock)(l);
}

int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *t)
{
	int r = ask_lock(PMRUN_OP_RW_RDLOCK, l, PMRUN_FLAG_TIMED, SITE);
	return r > 0 ? r : REAL(pthread_rwlock_timedrdlock)(l, t);
}

int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *t)
{
	int r = ask_lock(PMRUN_OP_RW_WRLOCK, l, PMRUN_FLAG_TIMED, SITE);
	return r > 0 ? r : REAL(pthread_rwlock_timedwrlock)(l, t);
}

int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t k, const struct timespec *t)
{
	int r = ask_lock(PMRUN_OP_RW_RDLOCK, l, PMRUN_FLAG_TIMED, SITE);
	return r > 0 ? r : REAL(pthread_rwlock_clockrdlock)(l, k, t);
}

int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t k, const struct timespec *t)
{
	int r = ask_lock(PMRUN_OP_RW_WRLOCK, l, PMRUN_FLAG_TIMED, SITE);
	return r > 0 ? r : REAL(pthread_rwlock_clockwrlock)(l, k, t);
}

/* Spin locks: a spin on a lock held by a thread that waits for its turn
 * would spin for ever, so pmrun schedules them as mutexes. */

int pthread_spin_init(pthread_spinlock_t *l, int pshared)
{
	int err = REAL(pthread_spin_init)(l, pshared);
	if (!err)
		init_note((const void *)l, PMRUN_KIND_SPIN, pshared == PTHREAD_PROCESS_SHARED, 0);
	return err;
}

int pthread_spin_destroy(pthread_spinlock_t *l)
{
	destroy_note((const void *)l, PMRUN_KIND_SPIN);
	return REAL(pthread_spin_destroy)(l);
}

int pthread_spin_lock(pthread_spinlock_t *l)
{
	int r = ask_lock(PMRUN_OP_SPIN_LOCK, (const void *)l, 0, SITE);
	return r > 0 ? r : REAL(pthread_spin_lock)(l);
}

int pthread_spin_trylock(pthread_spinlock_t *l)
{
	int r = ask_lock(PMRUN_OP_SPIN_TRYLOCK, (const void *)l, 0, SITE);
	return r > 0 ? r : REAL(pthread_spin_trylock)(l);
}

int pthread_spin_unlock(pthread_spinlock_t *l)
{
	int r = ask_lock(PMRUN_OP_SPIN_UNLOCK, (const void *)l, 0, SITE);
	return r > 0 ? r : REAL(pthread_spin_unlock)(l);
}

/* Barriers: arriving is a point; the last to arrive opens the barrier
 * and goes on as its serial thread, the others leave at a point of their
 * own once it is open. */

int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *a, unsigned count)
{
	int err = REAL(pthread_barrier_init)(b, a, count);
	int shared = 0;
	if (!err && a)
		pthread_barrierattr_getpshared(a, &shared);
	if (!err)
		init_note(b, PMRUN_KIND_BARRIER, shared == PTHREAD_PROCESS_SHARED, count);
	return err;
}

int pthread_barrier_destroy(pthread_barrier_t *b)
{
	destroy_note(b, PMRUN_KIND_BARRIER);
	return REAL(pthread_barrier_destroy)(b);
}

int pthread_barrier_wait(pthread_barrier_t *b)
{
	if (!pm_on())
		return REAL(pthread_barrier_wait)(b);
	int64_t opened = 0;
	int r = pm_ask(&(struct pm_req){.op = PMRUN_OP_BARRIER_WAIT, .obj = b, .site = SITE}, &opened);
	if (r == PMRUN_FREE)
		return REAL(pthread_barrier_wait)(b);
	if (r)
		return r;
	if (opened)
		return PTHREAD_BARRIER_SERIAL_THREAD;
	r = pm_ask(&(struct pm_req){.op = PMRUN_OP_BARRIER_LEAVE, .obj = b, .site = SITE}, 0);
	return r > 0 ? r : 0;
}
