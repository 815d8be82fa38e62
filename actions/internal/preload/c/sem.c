/*
 * sem.c: POSIX semaphores, unnamed (sem_init, process-shared or not) and
 * named (sem_open). Each wait and post tells pmrun the semaphore's value
 * as the thread sees it, so pmrun learns the value of one it has not seen
 * made (opened by another program) and notices one changed behind its
 * back.
 */
#include "internal.h"

#include <fcntl.h>
#include <semaphore.h>
#include <stdarg.h>
#include <time.h>

/* sem_shared reads glibc's semaphore (struct new_sem: a 64-bit value
 * word, then the futex flag, 0 for a process-shared one). */
static uint32_t sem_shared(const sem_t *s)
{
	const int *private = (const int *)((const char *)s + 8);
	return *private == 0 ? PMRUN_FLAG_SHARED : 0;
}

static int value(sem_t *s)
{
	int v = 0;
	REAL(sem_getvalue)(s, &v);
	return v;
}

static int ask_sem(int op, sem_t *s, uint32_t flags, void *site)
{
	if (!pm_on())
		return PMRUN_FREE;
	return pm_ask(&(struct pm_req){.op = op, .obj = s, .flags = flags | sem_shared(s), .arg = value(s), .site = site}, 0);
}

PM_CONTROLLED int sem_init_controlled(sem_t *s, int pshared, unsigned int v)
{
	int r = REAL(sem_init)(s, pshared, v);
	if (r == 0 && pm_on())
		pm_ask(&(struct pm_req){.op = PMRUN_OP_INIT, .obj = s, .arg = v, .arg2 = PMRUN_KIND_SEM,
					.flags = pshared ? PMRUN_FLAG_SHARED : 0}, 0);
	return r;
}

int sem_init(sem_t *s, int pshared, unsigned int v)
{
	DORMANT(sem_init, s, pshared, v);
	return sem_init_controlled(s, pshared, v);
}

PM_CONTROLLED int sem_destroy_controlled(sem_t *s)
{
	if (pm_on())
		pm_ask(&(struct pm_req){.op = PMRUN_OP_DESTROY, .obj = s, .arg2 = PMRUN_KIND_SEM}, 0);
	return REAL(sem_destroy)(s);
}

int sem_destroy(sem_t *s)
{
	DORMANT(sem_destroy, s);
	return sem_destroy_controlled(s);
}

sem_t *sem_open(const char *name, int oflag, ...)
{
	mode_t mode = 0;
	unsigned int v = 0;
	if (oflag & O_CREAT) {
		va_list ap;
		va_start(ap, oflag);
		mode = va_arg(ap, mode_t);
		v = va_arg(ap, unsigned int);
		va_end(ap);
	}
	sem_t *s = REAL(sem_open)(name, oflag, mode, v);
	if (s != SEM_FAILED && pm_on())
		pm_ask(&(struct pm_req){.op = PMRUN_OP_SEM_OPEN, .obj = s, .arg = value(s), .text = name,
					.flags = PMRUN_FLAG_SHARED}, 0);
	return s;
}

PM_CONTROLLED int sem_close_controlled(sem_t *s)
{
	if (pm_on())
		pm_ask(&(struct pm_req){.op = PMRUN_OP_SEM_CLOSE, .obj = s}, 0);
	return REAL(sem_close)(s);
}

int sem_close(sem_t *s)
{
	DORMANT(sem_close, s);
	return sem_close_controlled(s);
}

PM_CONTROLLED int sem_unlink_controlled(const char *name)
{
	int r = REAL(sem_unlink)(name);
	if (r == 0 && pm_on())
		pm_ask(&(struct pm_req){.op = PMRUN_OP_DESTROY, .text = name, .arg2 = PMRUN_KIND_SEM}, 0);
	return r;
}

int sem_unlink(const char *name)
{
	DORMANT(sem_unlink, name);
	return sem_unlink_controlled(name);
}

/* fail returns -1 with errno set to err, as the semaphore calls do. */
static int fail(int err)
{
	errno = err;
	return -1;
}

PM_CONTROLLED int sem_wait_controlled(sem_t *s, void *site)
{
	int r = ask_sem(PMRUN_OP_SEM_WAIT, s, 0, site);
	return r > 0 ? fail(r) : REAL(sem_wait)(s);
}

int sem_wait(sem_t *s)
{
	DORMANT(sem_wait, s);
	return sem_wait_controlled(s, SITE);
}

PM_CONTROLLED int sem_trywait_controlled(sem_t *s, void *site)
{
	int r = ask_sem(PMRUN_OP_SEM_TRYWAIT, s, 0, site);
	return r > 0 ? fail(r) : REAL(sem_trywait)(s);
}

int sem_trywait(sem_t *s)
{
	DORMANT(sem_trywait, s);
	return sem_trywait_controlled(s, SITE);
}

PM_CONTROLLED int sem_timedwait_controlled(sem_t *s, const struct timespec *t, void *site)
{
	int r = ask_sem(PMRUN_OP_SEM_WAIT, s, PMRUN_FLAG_TIMED, site);
	return r > 0 ? fail(r) : REAL(sem_timedwait)(s, t);
}

int sem_timedwait(sem_t *s, const struct timespec *t)
{
	DORMANT(sem_timedwait, s, t);
	return sem_timedwait_controlled(s, t, SITE);
}

PM_CONTROLLED int sem_clockwait_controlled(sem_t *s, clockid_t c, const struct timespec *t, void *site)
{
	int r = ask_sem(PMRUN_OP_SEM_WAIT, s, PMRUN_FLAG_TIMED, site);
	return r > 0 ? fail(r) : REAL(sem_clockwait)(s, c, t);
}

int sem_clockwait(sem_t *s, clockid_t c, const struct timespec *t)
{
	DORMANT(sem_clockwait, s, c, t);
	return sem_clockwait_controlled(s, c, t, SITE);
}

PM_CONTROLLED int sem_post_controlled(sem_t *s, void *site)
{
	int r = ask_sem(PMRUN_OP_SEM_POST, s, 0, site);
	return r > 0 ? fail(r) : REAL(sem_post)(s);
}

int sem_post(sem_t *s)
{
	DORMANT(sem_post, s);
	return sem_post_controlled(s, SITE);
}
