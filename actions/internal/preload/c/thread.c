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

int pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	if (!pm_on())
		return REAL(pthread_create)(th, attr, fn, arg);
	int64_t slot = -1;
	int r = pm_ask(&(struct pm_req){.op = PMRUN_OP_CREATE, .arg = (int64_t)(uintptr_t)fn, .site = SITE}, &slot);
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

int pthread_join(pthread_t th, void **ret)
{
	if (pm_on()) {
		int r = pm_ask(&(struct pm_req){.op = PMRUN_OP_JOIN, .obj = (void *)th, .site = SITE}, 0);
		if (r > 0)
			return r;
	}
	return REAL(pthread_join)(th, ret);
}

int pthread_setname_np(pthread_t th, const char *name)
{
	int err = REAL(pthread_setname_np)(th, name);
	if (!err && pm_on())
		pm_ask(&(struct pm_req){.op = PMRUN_OP_NAME, .obj = (void *)th, .text = name}, 0);
	return err;
}

/* A wait for a child process is a point: pmrun lets it go once the call
 * returns without blocking (a child it waits for has exited, or WNOHANG). */
static int ask_wait(pid_t pid, int options, void *site)
{
	if (!pm_on())
		return 0;
	return pm_ask(&(struct pm_req){.op = PMRUN_OP_WAITPID, .arg = pid, .arg2 = options, .site = site}, 0);
}

pid_t waitpid(pid_t pid, int *status, int options)
{
	ask_wait(pid, options, SITE);
	return REAL(waitpid)(pid, status, options);
}

pid_t wait(int *status)
{
	ask_wait(-1, 0, SITE);
	return REAL(wait)(status);
}

pid_t wait4(pid_t pid, int *status, int options, struct rusage *ru)
{
	ask_wait(pid, options, SITE);
	return REAL(wait4)(pid, status, options, ru);
}

int waitid(idtype_t type, id_t id, siginfo_t *info, int options)
{
	pid_t pid = type == P_PID ? (pid_t)id : type == P_PGID ? -(pid_t)id : -1;
	ask_wait(pid, options, SITE);
	return REAL(waitid)(type, id, info, options);
}

/* Sleeps and yields are points where another thread may run; under pmrun
 * they take no time. */
static int ask_sleep(int op, int64_t ns, void *site)
{
	if (!pm_on())
		return PMRUN_FREE;
	return pm_ask(&(struct pm_req){.op = op, .arg = ns, .site = site}, 0);
}

int sched_yield(void)
{
	if (ask_sleep(PMRUN_OP_YIELD, 0, SITE) != PMRUN_FREE)
		return 0;
	return REAL(sched_yield)();
}

int nanosleep(const struct timespec *req, struct timespec *rem)
{
	int64_t ns = req ? (int64_t)req->tv_sec * 1000000000 + req->tv_nsec : 0;
	if (ask_sleep(PMRUN_OP_SLEEP, ns, SITE) != PMRUN_FREE) {
		if (rem)
			memset(rem, 0, sizeof *rem);
		return 0;
	}
	return REAL(nanosleep)(req, rem);
}

int clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem)
{
	int64_t ns = req ? (int64_t)req->tv_sec * 1000000000 + req->tv_nsec : 0;
	if (ask_sleep(PMRUN_OP_SLEEP, ns, SITE) != PMRUN_FREE) {
		if (rem && !(flags & TIMER_ABSTIME))
			memset(rem, 0, sizeof *rem);
		return 0;
	}
	return REAL(clock_nanosleep)(clock, flags, req, rem);
}

int usleep(useconds_t us)
{
	if (ask_sleep(PMRUN_OP_SLEEP, (int64_t)us * 1000, SITE) != PMRUN_FREE)
		return 0;
	return REAL(usleep)(us);
}

unsigned int sleep(unsigned int s)
{
	if (ask_sleep(PMRUN_OP_SLEEP, (int64_t)s * 1000000000, SITE) != PMRUN_FREE)
		return 0;
	return REAL(sleep)(s);
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
