/*
 * core.c: attaching to pmrun's control block and asking it for the turn.
 */
#include "internal.h"

#include <link.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct pmrun_hdr *pm_hdr;
__thread int pm_slot = -1;
__thread int pm_depth;

static int64_t main_bias;
static pthread_key_t end_key;
/* The slot a fork in progress gives its child, -1 when none. */
static volatile int child_slot = -1;

int64_t pm_bias(void) { return main_bias; }

struct pmrun_slot *pm_slot_at(int i)
{
	return (struct pmrun_slot *)((char *)pm_hdr + PMRUN_SLOTS_OFFSET) + i;
}

static long futex(uint32_t *addr, int op, uint32_t val)
{
	return syscall(SYS_futex, addr, op, val, NULL, NULL, 0);
}

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* kick tells pmrun that a request is waiting: it counts every request in
 * events, and sleeps on that word only after saying so in ctl_sleeping
 * and looking at events again, so either it sees this request or this
 * sees it asleep and wakes it. */
static void kick(void)
{
	__atomic_fetch_add(&pm_hdr->events, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&pm_hdr->ctl_sleeping, __ATOMIC_SEQ_CST))
		futex(&pm_hdr->events, FUTEX_WAKE, 1);
}

/* wait_turn waits until pmrun has answered request seq: a short spin (the
 * answer often comes within microseconds, and then no system call is
 * made; pmrun cuts it short by writing seq into park when it chose
 * another thread; every 64 rounds it yields the CPU, so that a thread
 * that waits for one does not keep it spinning), then a futex wait,
 * announced in sleeping so that pmrun wakes the thread only when it
 * sleeps. */
static void wait_turn(struct pmrun_slot *s, uint32_t seq)
{
	uint32_t spin = __atomic_load_n(&pm_hdr->spin, __ATOMIC_RELAXED);
	for (uint32_t i = 0; i < spin; i++) {
		if (__atomic_load_n(&s->turn, __ATOMIC_ACQUIRE) == seq)
			return;
		if (__atomic_load_n(&s->park, __ATOMIC_RELAXED) == seq)
			break;
		if ((i & 63) == 63)
			syscall(SYS_sched_yield);
		relax();
	}
	for (;;) {
		uint32_t t = __atomic_load_n(&s->turn, __ATOMIC_ACQUIRE);
		if (t == seq)
			return;
		__atomic_store_n(&s->sleeping, 1, __ATOMIC_SEQ_CST);
		t = __atomic_load_n(&s->turn, __ATOMIC_SEQ_CST);
		if (t != seq)
			futex(&s->turn, FUTEX_WAIT, t);
		__atomic_store_n(&s->sleeping, 0, __ATOMIC_RELAXED);
	}
}

static void fill(struct pmrun_slot *s, const struct pm_req *r)
{
	s->op = r->op;
	s->flags = r->flags;
	s->obj = (uint64_t)(uintptr_t)r->obj;
	s->obj2 = (uint64_t)(uintptr_t)r->obj2;
	s->arg = r->arg;
	s->arg2 = r->arg2;
	s->site = (uint64_t)(uintptr_t)r->site;
	s->text[0] = 0;
	if (r->text) {
		strncpy(s->text, r->text, PMRUN_TEXT_SIZE - 1);
		s->text[PMRUN_TEXT_SIZE - 1] = 0;
	}
}

int pm_ask(const struct pm_req *r, int64_t *arg)
{
	int saved = errno;
	struct pmrun_slot *s = pm_self();
	pm_depth++;
	fill(s, r);
	uint32_t seq = s->seq + 1;
	__atomic_store_n(&s->seq, seq, __ATOMIC_RELEASE);
	kick();
	wait_turn(s, seq);
	int reply = s->reply;
	if (arg)
		*arg = s->reply_arg;
	pm_depth--;
	errno = saved;
	return reply;
}

void pm_tell(const struct pm_req *r)
{
	int saved = errno;
	struct pmrun_slot *s = pm_self();
	fill(s, r);
	__atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
	kick();
	errno = saved;
}

/* bind makes the calling thread the one of slot i: pmrun learns its ids,
 * which the watchdog reads /proc with. */
static struct pmrun_slot *bind(int i)
{
	struct pmrun_slot *s = pm_slot_at(i);
	pm_slot = i;
	s->pid = getpid();
	s->tid = gettid();
	s->self = (uint64_t)pthread_self();
	return s;
}

/* A thread pmrun made a slot for (pthread_create, fork) has request 1,
 * its start, already counted by pmrun: it waits for that turn. */
void pm_wait_start(int i)
{
	struct pmrun_slot *s = bind(i);
	__atomic_store_n(&s->seq, 1, __ATOMIC_RELEASE);
	pthread_setspecific(end_key, (void *)1);
	wait_turn(s, 1);
}

void pm_attach_child(int i) { pm_wait_start(i); }

/* end is the destructor of end_key: the thread is ending (its C++
 * thread_local objects are gone, and other keys' destructors may still
 * run, uncontrolled). */
static void end(void *v)
{
	(void)v;
	if (pm_on()) {
		pm_tell(&(struct pm_req){.op = PMRUN_OP_END});
		pm_slot = -1;
	}
}

static void atfork_child(void)
{
	if (!pm_hdr || pm_slot < 0)
		return;
	int i = child_slot;
	child_slot = -1;
	if (i < 0) {
		/* A fork pmrun was not asked about (from inside the library,
		 * or a thread it does not control): the child runs free. */
		pm_slot = -1;
		return;
	}
	pm_attach_child(i);
}

PM_CONTROLLED pid_t fork_controlled(void *site)
{
	if (!pm_on())
		return REAL(fork)();
	int64_t slot = -1;
	int r = pm_ask(&(struct pm_req){.op = PMRUN_OP_FORK, .site = site}, &slot);
	if (r == PMRUN_FREE)
		return REAL(fork)();
	child_slot = (int)slot;
	pid_t pid = REAL(fork)();
	if (pid == 0)
		return 0; /* atfork_child waited for the child's first turn */
	int saved = errno;
	child_slot = -1;
	pm_ask(&(struct pm_req){.op = PMRUN_OP_FORKED, .arg = pid < 0 ? -saved : pid}, 0);
	errno = saved;
	return pid;
}

pid_t fork(void)
{
	DORMANT(fork);
	return fork_controlled(SITE);
}

static int first_object(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	*(int64_t *)data = (int64_t)info->dlpi_addr;
	return 1;
}

/* claim finds this thread's slot when this image was exec'd by a thread
 * pmrun knows (the newest slot with its ids), else takes a new one. */
static int claim(int *known)
{
	pid_t pid = getpid(), tid = gettid();
	uint32_t n = __atomic_load_n(&pm_hdr->next_slot, __ATOMIC_ACQUIRE);
	if (n > PMRUN_SLOTS)
		n = PMRUN_SLOTS;
	for (int i = (int)n - 1; i >= 0; i--) {
		struct pmrun_slot *s = pm_slot_at(i);
		if (s->pid == pid && s->tid == tid) {
			*known = 1;
			return i;
		}
	}
	*known = 0;
	uint32_t i = __atomic_fetch_add(&pm_hdr->next_slot, 1, __ATOMIC_ACQ_REL);
	return i < PMRUN_SLOTS ? (int)i : -1;
}

/* The bounds of section pm_dormant, which the linker provides. */
extern struct pm_dormant __start_pm_dormant[] PM_HIDDEN;
extern struct pm_dormant __stop_pm_dormant[] PM_HIDDEN;

/* resolve_dormant points every DORMANT at its real function. */
static void resolve_dormant(void)
{
	for (struct pm_dormant *d = __start_pm_dormant; d < __stop_pm_dormant; d++)
		__atomic_store_n(d->fn, dlsym(RTLD_NEXT, d->name), __ATOMIC_RELAXED);
}

static void on_exit_point(void);
static void attach_block(void);

/* attach takes the control block pmrun handed down, if any; without
 * one, every function the library stands in for goes straight to the
 * real one from now on. */
__attribute__((constructor)) static void attach(void)
{
	attach_block();
	if (!pm_hdr)
		resolve_dormant();
}

static void attach_block(void)
{
	const char *env = getenv(PMRUN_CTL_ENV);
	if (!env || !*env)
		return;
	char *end_;
	long fd = strtol(env, &end_, 10);
	if (*end_ || fd < 0)
		return;
	void *p = mmap(NULL, PMRUN_CTL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
	if (p == MAP_FAILED)
		return; /* the descriptor was closed: pmrun's watchdog says so */
	struct pmrun_hdr *h = p;
	if (h->magic != PMRUN_CTL_MAGIC || h->version != PMRUN_CTL_VERSION ||
	    h->slot_size != PMRUN_SLOT_SIZE || h->nslots != PMRUN_SLOTS) {
		static const char msg[] = "pmrun: the control block is not this library's version; the program runs uncontrolled\n";
		write(2, msg, sizeof msg - 1);
		munmap(p, PMRUN_CTL_SIZE);
		return;
	}
	dl_iterate_phdr(first_object, &main_bias);
	pthread_key_create(&end_key, end);
	pthread_atfork(NULL, NULL, atfork_child);
	atexit(on_exit_point);
	pm_hdr = h;
	int known;
	int i = claim(&known);
	if (i < 0) {
		static const char msg[] = "pmrun: more threads than the control block holds; this one runs uncontrolled\n";
		write(2, msg, sizeof msg - 1);
		return;
	}
	struct pmrun_slot *s = bind(i);
	pthread_setspecific(end_key, (void *)1);
	if (known) {
		char exe[PMRUN_TEXT_SIZE];
		ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
		exe[n > 0 ? n : 0] = 0;
		pm_ask(&(struct pm_req){.op = PMRUN_OP_EXEC, .arg = main_bias, .text = exe}, 0);
		return;
	}
	(void)s;
	pm_ask(&(struct pm_req){.op = PMRUN_OP_START, .arg = main_bias}, 0);
}

/* The end of main (or exit) is a point: another thread may run before
 * the process ends. */
static __thread int exiting;

static void on_exit_point(void)
{
	if (pm_on() && !exiting) {
		exiting = 1;
		pm_ask(&(struct pm_req){.op = PMRUN_OP_EXIT, .arg = -1}, 0);
	}
}

void exit(int status)
{
	if (pm_on() && !exiting) {
		exiting = 1;
		pm_ask(&(struct pm_req){.op = PMRUN_OP_EXIT, .arg = status, .site = SITE}, 0);
	}
	REAL(exit)(status);
	__builtin_unreachable();
}
