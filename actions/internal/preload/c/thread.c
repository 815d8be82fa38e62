/*
 * thread.c: threads (create, join, name), waiting for child processes,
 * sleeps and yields, assertions and explicit points.
 */
#include "internal.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct start {
	void *(*fn)(void *);
	void *arg;
	int slot;
};

static void *trampoline(void *p)
{
	struct start st = *(struct start *)p;
	free(p);
	pm_wait_start(st.slot);
	return st.fn(st.arg);
}

PM_CONTROLLED int pthread_create_controlled(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg, void *site)
{
	if (!pm_on())
		return REAL(pthread_create)(th, attr, fn, arg);
	int64_t slot = -1;
	int r = pm_ask(&(struct pm_req){.op = PMRUN_OP_CREATE, .arg = (int64_t)(uintptr_t)fn, .site = site}, &slot);
	if (r == PMRUN_FREE)
		return REAL(pthread_create)(th, attr, fn, arg);
	if (r)
		return r;
	struct start *st = malloc(sizeof *st);
	int err = ENOMEM;
	if (st) {
		*st = (struct start){fn, arg, (int)slot};
		err = REAL(pthread_create)(th, attr, trampoline, st);
		if (err)
			free(st);
	}
	pm_ask(&(struct pm_req){.op = PMRUN_OP_CREATED, .arg = err, .arg2 = slot, .obj = err ? 0 : (void *)*th}, 0);
	return err;
}

int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	DORMANT(pthread_create, th, attr, fn, arg);
	return pthread_create_controlled(th, attr, fn, arg, SITE);
}

PM_CONTROLLED int pthread_join_controlled(pthread_t th, void **ret, void *site)
{
	if (pm_on()) {
		int r = pm_ask(&(struct pm_req){.op = PMRUN_OP_JOIN, .obj = (void *)th, .site = site}, 0);
		if (r > 0)
			return r;
	}
	return REAL(pthread_join)(th, ret);
}

int pthread_join(pthread_t th, void **ret)
{
	DORMANT(pthread_join, th, ret);
	return pthread_join_controlled(th, ret, SITE);
}

PM_CONTROLLED int pthread_setname_np_controlled(pthread_t th, const char *name)
{
	int err = REAL(pthread_setname_np)(th, name);
	if (!err && pm_on())
		pm_ask(&(struct pm_req){.op = PMRUN_OP_NAME, .obj = (void *)th, .text = name}, 0);
	return err;
}

int pthread_setname_np(pthread_t th, const char *name)
{
	DORMANT(pthread_setname_np, th, name);
	return pthread_setname_np_controlled(th, name);
}

/* A wait for a child process is a point: pmrun lets it go once the call
 * returns without blocking (a child it waits for has exited, or WNOHANG). */
static int ask_wait(pid_t pid, int options, void *site)
{
	if (!pm_on())
		return 0;
	return pm_ask(&(struct pm_req){.op = PMRUN_OP_WAITPID, .arg = pid, .arg2 = options, .site = site}, 0);
}

PM_CONTROLLED pid_t waitpid_controlled(pid_t pid, int *status, int options, void *site)
{
	ask_wait(pid, options, site);
	return REAL(waitpid)(pid, status, options);
}

pid_t waitpid(pid_t pid, int *status, int options)
{
	DORMANT(waitpid, pid, status, options);
	return waitpid_controlled(pid, status, options, SITE);
}

PM_CONTROLLED pid_t wait_controlled(int *status, void *site)
{
	ask_wait(-1, 0, site);
	return REAL(wait)(status);
}

pid_t wait(int *status)
{
	DORMANT(wait, status);
	return wait_controlled(status, SITE);
}

PM_CONTROLLED pid_t wait4_controlled(pid_t pid, int *status, int options, struct rusage *ru, void *site)
{
	ask_wait(pid, options, site);
	return REAL(wait4)(pid, status, options, ru);
}

pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	DORMANT(wait4, pid, status, options, ru);
	return wait4_controlled(pid, status, options, ru, SITE);
}

PM_CONTROLLED int waitid_controlled(idtype_t type, id_t id, siginfo_t *info, int options, void *site)
{
	pid_t pid = type == P_PID ? (pid_t)id : type == P_PGID ? -(pid_t)id : -1;
	ask_wait(pid, options, site);
	return REAL(waitid)(type, id, info, options);
}

int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	DORMANT(waitid, type, id, info, options);
	return waitid_controlled(type, id, info, options, SITE);
}

/* Sleeps and yields are points where another thread may run; under pmrun
 * they take no time. */
static int ask_sleep(int op, int64_t ns, void *site)
{
	if (!pm_on())
		return PMRUN_FREE;
	return pm_ask(&(struct pm_req){.op = op, .arg = ns, .site = site}, 0);
}

PM_CONTROLLED int sched_yield_controlled(void *site)
{
	if (ask_sleep(PMRUN_OP_YIELD, 0, site) != PMRUN_FREE)
		return 0;
	return REAL(sched_yield)();
}

int sched_yield(void)
{
	DORMANT(sched_yield);
	return sched_yield_controlled(SITE);
}

PM_CONTROLLED int nanosleep_controlled(const struct timespec *req, struct timespec *rem, void *site)
{
	int64_t ns = req ? (int64_t)req->tv_sec * 1000000000 + req->tv_nsec : 0;
	if (ask_sleep(PMRUN_OP_SLEEP, ns, site) != PMRUN_FREE) {
		if (rem)
			memset(rem, 0, sizeof *rem);
		return 0;
	}
	return REAL(nanosleep)(req, rem);
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	DORMANT(nanosleep, req, rem);
	return nanosleep_controlled(req, rem, SITE);
}

PM_CONTROLLED int clock_nanosleep_controlled(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem, void *site)
{
	int64_t ns = req ? (int64_t)req->tv_sec * 1000000000 + req->tv_nsec : 0;
	if (ask_sleep(PMRUN_OP_SLEEP, ns, site) != PMRUN_FREE) {
		if (rem && !(flags & TIMER_ABSTIME))
			memset(rem, 0, sizeof *rem);
		return 0;
	}
	return REAL(clock_nanosleep)(clock, flags, req, rem);
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem)
{
	DORMANT(clock_nanosleep, clock, flags, req, rem);
	return clock_nanosleep_controlled(clock, flags, req, rem, SITE);
}

PM_CONTROLLED int usleep_controlled(useconds_t us, void *site)
{
	if (ask_sleep(PMRUN_OP_SLEEP, (int64_t)us * 1000, site) != PMRUN_FREE)
		return 0;
	return REAL(usleep)(us);
}

int usleep(useconds_t us)
{
	DORMANT(usleep, us);
	return usleep_controlled(us, SITE);
}

PM_CONTROLLED unsigned int sleep_controlled(unsigned int s, void *site)
{
	if (ask_sleep(PMRUN_OP_SLEEP, (int64_t)s * 1000000000, site) != PMRUN_FREE)
		return 0;
	return REAL(sleep)(s);
}

unsigned int sleep(unsigned int s)
{
	DORMANT(sleep, s);
	return sleep_controlled(s, SITE);
}

/* pmrun_point_ is what pmrun.h's pmrun_point calls: a point of the
 * program's own, for a race on plain memory. */
void pmrun_point_(const char *name)
{
	if (pm_on())
		pm_ask(&(struct pm_req){.op = PMRUN_OP_POINT, .text = name, .site = SITE}, 0);
}

/* A failed assert is noted with where it failed before glibc prints it
 * and aborts. */
void __assert_fail(const char *expr, const char *file, unsigned int line, const char *fn)
{
	if (pm_on()) {
		char text[PMRUN_TEXT_SIZE];
		const char *base = strrchr(file, '/');
		snprintf(text, sizeof text, "%s:%u: %s: assertion `%s' failed", base ? base + 1 : file, line, fn, expr);
		pm_ask(&(struct pm_req){.op = PMRUN_OP_ASSERT, .arg = line, .text = text, .site = SITE}, 0);
	}
	REAL(__assert_fail)(expr, file, line, fn);
	__builtin_unreachable();
}
