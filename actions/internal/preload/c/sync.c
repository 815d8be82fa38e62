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

PM_CONTROLLED int pthread_mutex_init_controlled(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
	int err = REAL(pthread_mutex_init)(m, a);
	if (!err)
		init_note(m, PMRUN_KIND_MUTEX, pm_mutex_shared(m), pm_mutex_type(m));
	return err;
}

int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
	DORMANT(pthread_mutex_init, m, a);
	return pthread_mutex_init_controlled(m, a);
}

PM_CONTROLLED int pthread_mutex_destroy_controlled(pthread_mutex_t *m)
{
	destroy_note(m, PMRUN_KIND_MUTEX);
	return REAL(pthread_mutex_destroy)(m);
}

int pthread_mutex_destroy(pthread_mutex_t *m)
{
	DORMANT(pthread_mutex_destroy, m);
	return pthread_mutex_destroy_controlled(m);
}

static int ask_mutex(int op, pthread_mutex_t *m, uint32_t flags, void *site)
{
	return pm_ask(&(struct pm_req){.op = op, .obj = m, .flags = flags | shared_if(pm_mutex_shared(m)),
				       .arg = pm_mutex_type(m), .arg2 = pm_mutex_word(m), .site = site}, 0);
}

PM_CONTROLLED int pthread_mutex_lock_controlled(pthread_mutex_t *m, void *site)
{
	if (pm_on()) {
		int r = ask_mutex(PMRUN_OP_MUTEX_LOCK, m, 0, site);
		if (r > 0)
			return r;
	}
	return REAL(pthread_mutex_lock)(m);
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
	DORMANT(pthread_mutex_lock, m);
	return pthread_mutex_lock_controlled(m, SITE);
}

PM_CONTROLLED int pthread_mutex_trylock_controlled(pthread_mutex_t *m, void *site)
{
	if (pm_on()) {
		int r = ask_mutex(PMRUN_OP_MUTEX_TRYLOCK, m, 0, site);
		if (r > 0)
			return r;
	}
	return REAL(pthread_mutex_trylock)(m);
}

int pthread_mutex_trylock(pthread_mutex_t *m)
{
	DORMANT(pthread_mutex_trylock, m);
	return pthread_mutex_trylock_controlled(m, SITE);
}

PM_CONTROLLED int pthread_mutex_timedlock_controlled(pthread_mutex_t *m, const struct timespec *t, void *site)
{
	if (pm_on()) {
		int r = ask_mutex(PMRUN_OP_MUTEX_LOCK, m, PMRUN_FLAG_TIMED, site);
		if (r > 0)
			return r;
	}
	return REAL(pthread_mutex_timedlock)(m, t);
}

int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *t)
{
	DORMANT(pthread_mutex_timedlock, m, t);
	return pthread_mutex_timedlock_controlled(m, t, SITE);
}

PM_CONTROLLED int pthread_mutex_clocklock_controlled(pthread_mutex_t *m, clockid_t c, const struct timespec *t, void *site)
{
	if (pm_on()) {
		int r = ask_mutex(PMRUN_OP_MUTEX_LOCK, m, PMRUN_FLAG_TIMED, site);
		if (r > 0)
			return r;
	}
	return REAL(pthread_mutex_clocklock)(m, c, t);
}

int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t c, const struct timespec *t)
{
	DORMANT(pthread_mutex_clocklock, m, c, t);
	return pthread_mutex_clocklock_controlled(m, c, t, SITE);
}

PM_CONTROLLED int pthread_mutex_unlock_controlled(pthread_mutex_t *m, void *site)
{
	if (pm_on()) {
		int r = ask_mutex(PMRUN_OP_MUTEX_UNLOCK, m, 0, site);
		if (r > 0)
			return r;
	}
	return REAL(pthread_mutex_unlock)(m);
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
	DORMANT(pthread_mutex_unlock, m);
	return pthread_mutex_unlock_controlled(m, SITE);
}

/* Condition variables: a wait is two points, releasing the mutex and
 * queueing, then (once signalled, or timed out when nothing else can
 * run) taking the mutex back. */

PM_CONTROLLED int pthread_cond_init_controlled(pthread_cond_t *c, const pthread_condattr_t *a)
{
	int err = REAL(pthread_cond_init)(c, a);
	int shared = 0;
	if (!err && a)
		pthread_condattr_getpshared(a, &shared);
	if (!err)
		init_note(c, PMRUN_KIND_COND, shared == PTHREAD_PROCESS_SHARED, 0);
	return err;
}

int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a)
{
	DORMANT(pthread_cond_init, c, a);
	return pthread_cond_init_controlled(c, a);
}

PM_CONTROLLED int pthread_cond_destroy_controlled(pthread_cond_t *c)
{
	destroy_note(c, PMRUN_KIND_COND);
	return REAL(pthread_cond_destroy)(c);
}

int pthread_cond_destroy(pthread_cond_t *c)
{
	DORMANT(pthread_cond_destroy, c);
	return pthread_cond_destroy_controlled(c);
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

PM_CONTROLLED int pthread_cond_wait_controlled(pthread_cond_t *c, pthread_mutex_t *m, void *site)
{
	if (pm_on()) {
		int r = cond_wait(c, m, 0, site);
		if (r >= 0)
			return r;
	}
	return REAL(pthread_cond_wait)(c, m);
}

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	DORMANT(pthread_cond_wait, c, m);
	return pthread_cond_wait_controlled(c, m, SITE);
}

PM_CONTROLLED int pthread_cond_timedwait_controlled(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t, void *site)
{
	if (pm_on()) {
		int r = cond_wait(c, m, PMRUN_FLAG_TIMED, site);
		if (r >= 0)
			return r;
	}
	return REAL(pthread_cond_timedwait)(c, m, t);
}

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *t)
{
	DORMANT(pthread_cond_timedwait, c, m, t);
	return pthread_cond_timedwait_controlled(c, m, t, SITE);
}

PM_CONTROLLED int pthread_cond_clockwait_controlled(pthread_cond_t *c, pthread_mutex_t *m, clockid_t k, const struct timespec *t, void *site)
{
	if (pm_on()) {
		int r = cond_wait(c, m, PMRUN_FLAG_TIMED, site);
		if (r >= 0)
			return r;
	}
	return REAL(pthread_cond_clockwait)(c, m, k, t);
}

int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t k, const struct timespec *t)
{
	DORMANT(pthread_cond_clockwait, c, m, k, t);
	return pthread_cond_clockwait_controlled(c, m, k, t, SITE);
}

PM_CONTROLLED int pthread_cond_signal_controlled(pthread_cond_t *c, void *site)
{
	if (pm_on() && ask_lock(PMRUN_OP_COND_SIGNAL, c, 0, site) != PMRUN_FREE)
		return 0;
	return REAL(pthread_cond_signal)(c);
}

int pthread_cond_signal(pthread_cond_t *c)
{
	DORMANT(pthread_cond_signal, c);
	return pthread_cond_signal_controlled(c, SITE);
}

PM_CONTROLLED int pthread_cond_broadcast_controlled(pthread_cond_t *c, void *site)
{
	if (pm_on() && ask_lock(PMRUN_OP_COND_BROADCAST, c, 0, site) != PMRUN_FREE)
		return 0;
	return REAL(pthread_cond_broadcast)(c);
}

int pthread_cond_broadcast(pthread_cond_t *c)
{
	DORMANT(pthread_cond_broadcast, c);
	return pthread_cond_broadcast_controlled(c, SITE);
}

/* Read-write locks (pmrun models glibc's default: readers first). */

PM_CONTROLLED int pthread_rwlock_init_controlled(pthread_rwlock_t *l, const pthread_rwlockattr_t *a)
{
	int err = REAL(pthread_rwlock_init)(l, a);
	int shared = 0;
	if (!err && a)
		pthread_rwlockattr_getpshared(a, &shared);
	if (!err)
		init_note(l, PMRUN_KIND_RWLOCK, shared == PTHREAD_PROCESS_SHARED, 0);
	return err;
}

int pthread_rwlock_init(pthread_rwlock_t *l, const pthread_rwlockattr_t *a)
{
	DORMANT(pthread_rwlock_init, l, a);
	return pthread_rwlock_init_controlled(l, a);
}

PM_CONTROLLED int pthread_rwlock_destroy_controlled(pthread_rwlock_t *l)
{
	destroy_note(l, PMRUN_KIND_RWLOCK);
	return REAL(pthread_rwlock_destroy)(l);
}

int pthread_rwlock_destroy(pthread_rwlock_t *l)
{
	DORMANT(pthread_rwlock_destroy, l);
	return pthread_rwlock_destroy_controlled(l);
}

PM_CONTROLLED int pthread_rwlock_rdlock_controlled(pthread_rwlock_t *l, void *site)
{
	int r = ask_lock(PMRUN_OP_RW_RDLOCK, l, 0, site);
	return r > 0 ? r : REAL(pthread_rwlock_rdlock)(l);
}

int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
	DORMANT(pthread_rwlock_rdlock, l);
	return pthread_rwlock_rdlock_controlled(l, SITE);
}

PM_CONTROLLED int pthread_rwlock_wrlock_controlled(pthread_rwlock_t *l, void *site)
{
	int r = ask_lock(PMRUN_OP_RW_WRLOCK, l, 0, site);
	return r > 0 ? r : REAL(pthread_rwlock_wrlock)(l);
}

int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	DORMANT(pthread_rwlock_wrlock, l);
	return pthread_rwlock_wrlock_controlled(l, SITE);
}

PM_CONTROLLED int pthread_rwlock_tryrdlock_controlled(pthread_rwlock_t *l, void *site)
{
	int r = ask_lock(PMRUN_OP_RW_TRYRDLOCK, l, 0, site);
	return r > 0 ? r : REAL(pthread_rwlock_tryrdlock)(l);
}

int pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
	DORMANT(pthread_rwlock_tryrdlock, l);
	return pthread_rwlock_tryrdlock_controlled(l, SITE);
}

PM_CONTROLLED int pthread_rwlock_trywrlock_controlled(pthread_rwlock_t *l, void *site)
{
	int r = ask_lock(PMRUN_OP_RW_TRYWRLOCK, l, 0, site);
	return r > 0 ? r : REAL(pthread_rwlock_trywrlock)(l);
}

int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
	DORMANT(pthread_rwlock_trywrlock, l);
	return pthread_rwlock_trywrlock_controlled(l, SITE);
}

PM_CONTROLLED int pthread_rwlock_unlock_controlled(pthread_rwlock_t *l, void *site)
{
	int r = ask_lock(PMRUN_OP_RW_UNLOCK, l, 0, site);
	return r > 0 ? r : REAL(pthread_rwlock_unlock)(l);
}

int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
	DORMANT(pthread_rwlock_unlock, l);
	return pthread_rwlock_unlock_controlled(l, SITE);
}

PM_CONTROLLED int pthread_rwlock_timedrdlock_controlled(pthread_rwlock_t *l, const struct timespec *t, void *site)
{
	int r = ask_lock(PMRUN_OP_RW_RDLOCK, l, PMRUN_FLAG_TIMED, site);
	return r > 0 ? r : REAL(pthread_rwlock_timedrdlock)(l, t);
}

int pthread_rwlock_timedrdlock(pthread_rwlock_t *l, const struct timespec *t)
{
	DORMANT(pthread_rwlock_timedrdlock, l, t);
	return pthread_rwlock_timedrdlock_controlled(l, t, SITE);
}

PM_CONTROLLED int pthread_rwlock_timedwrlock_controlled(pthread_rwlock_t *l, const struct timespec *t, void *site)
{
	int r = ask_lock(PMRUN_OP_RW_WRLOCK, l, PMRUN_FLAG_TIMED, site);
	return r > 0 ? r : REAL(pthread_rwlock_timedwrlock)(l, t);
}

int pthread_rwlock_timedwrlock(pthread_rwlock_t *l, const struct timespec *t)
{
	DORMANT(pthread_rwlock_timedwrlock, l, t);
	return pthread_rwlock_timedwrlock_controlled(l, t, SITE);
}

PM_CONTROLLED int pthread_rwlock_clockrdlock_controlled(pthread_rwlock_t *l, clockid_t k, const struct timespec *t, void *site)
{
	int r = ask_lock(PMRUN_OP_RW_RDLOCK, l, PMRUN_FLAG_TIMED, site);
	return r > 0 ? r : REAL(pthread_rwlock_clockrdlock)(l, k, t);
}

int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t k, const struct timespec *t)
{
	DORMANT(pthread_rwlock_clockrdlock, l, k, t);
	return pthread_rwlock_clockrdlock_controlled(l, k, t, SITE);
}

PM_CONTROLLED int pthread_rwlock_clockwrlock_controlled(pthread_rwlock_t *l, clockid_t k, const struct timespec *t, void *site)
{
	int r = ask_lock(PMRUN_OP_RW_WRLOCK, l, PMRUN_FLAG_TIMED, site);
	return r > 0 ? r : REAL(pthread_rwlock_clockwrlock)(l, k, t);
}

int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t k, const struct timespec *t)
{
	DORMANT(pthread_rwlock_clockwrlock, l, k, t);
	return pthread_rwlock_clockwrlock_controlled(l, k, t, SITE);
}

/* Spin locks: a spin on a lock held by a thread that waits for its turn
 * would spin for ever, so pmrun schedules them as mutexes. */

PM_CONTROLLED int pthread_spin_init_controlled(pthread_spinlock_t *l, int pshared)
{
	int err = REAL(pthread_spin_init)(l, pshared);
	if (!err)
		init_note((const void *)l, PMRUN_KIND_SPIN, pshared == PTHREAD_PROCESS_SHARED, 0);
	return err;
}

int pthread_spin_init(pthread_spinlock_t *l, int pshared)
{
	DORMANT(pthread_spin_init, l, pshared);
	return pthread_spin_init_controlled(l, pshared);
}

PM_CONTROLLED int pthread_spin_destroy_controlled(pthread_spinlock_t *l)
{
	destroy_note((const void *)l, PMRUN_KIND_SPIN);
	return REAL(pthread_spin_destroy)(l);
}

int pthread_spin_destroy(pthread_spinlock_t *l)
{
	DORMANT(pthread_spin_destroy, l);
	return pthread_spin_destroy_controlled(l);
}

PM_CONTROLLED int pthread_spin_lock_controlled(pthread_spinlock_t *l, void *site)
{
	int r = ask_lock(PMRUN_OP_SPIN_LOCK, (const void *)l, 0, site);
	return r > 0 ? r : REAL(pthread_spin_lock)(l);
}

int pthread_spin_lock(pthread_spinlock_t *l)
{
	DORMANT(pthread_spin_lock, l);
	return pthread_spin_lock_controlled(l, SITE);
}

PM_CONTROLLED int pthread_spin_trylock_controlled(pthread_spinlock_t *l, void *site)
{
	int r = ask_lock(PMRUN_OP_SPIN_TRYLOCK, (const void *)l, 0, site);
	return r > 0 ? r : REAL(pthread_spin_trylock)(l);
}

int pthread_spin_trylock(pthread_spinlock_t *l)
{
	DORMANT(pthread_spin_trylock, l);
	return pthread_spin_trylock_controlled(l, SITE);
}

PM_CONTROLLED int pthread_spin_unlock_controlled(pthread_spinlock_t *l, void *site)
{
	int r = ask_lock(PMRUN_OP_SPIN_UNLOCK, (const void *)l, 0, site);
	return r > 0 ? r : REAL(pthread_spin_unlock)(l);
}

int pthread_spin_unlock(pthread_spinlock_t *l)
{
	DORMANT(pthread_spin_unlock, l);
	return pthread_spin_unlock_controlled(l, SITE);
}

/* Barriers: arriving is a point; the last to arrive opens the barrier
 * and goes on as its serial thread, the others leave at a point of their
 * own once it is open. */

PM_CONTROLLED int pthread_barrier_init_controlled(pthread_barrier_t *b, const pthread_barrierattr_t *a, unsigned count)
{
	int err = REAL(pthread_barrier_init)(b, a, count);
	int shared = 0;
	if (!err && a)
		pthread_barrierattr_getpshared(a, &shared);
	if (!err)
		init_note(b, PMRUN_KIND_BARRIER, shared == PTHREAD_PROCESS_SHARED, count);
	return err;
}

int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *a, unsigned count)
{
	DORMANT(pthread_barrier_init, b, a, count);
	return pthread_barrier_init_controlled(b, a, count);
}

PM_CONTROLLED int pthread_barrier_destroy_controlled(pthread_barrier_t *b)
{
	destroy_note(b, PMRUN_KIND_BARRIER);
	return REAL(pthread_barrier_destroy)(b);
}

int pthread_barrier_destroy(pthread_barrier_t *b)
{
	DORMANT(pthread_barrier_destroy, b);
	return pthread_barrier_destroy_controlled(b);
}

PM_CONTROLLED int pthread_barrier_wait_controlled(pthread_barrier_t *b, void *site)
{
	if (!pm_on())
		return REAL(pthread_barrier_wait)(b);
	int64_t opened = 0;
	int r = pm_ask(&(struct pm_req){.op = PMRUN_OP_BARRIER_WAIT, .obj = b, .site = site}, &opened);
	if (r == PMRUN_FREE)
		return REAL(pthread_barrier_wait)(b);
	if (r)
		return r;
	if (opened)
		return PTHREAD_BARRIER_SERIAL_THREAD;
	r = pm_ask(&(struct pm_req){.op = PMRUN_OP_BARRIER_LEAVE, .obj = b, .site = site}, 0);
	return r > 0 ? r : 0;
}

int pthread_barrier_wait(pthread_barrier_t *b)
{
	DORMANT(pthread_barrier_wait, b);
	return pthread_barrier_wait_controlled(b, SITE);
}
