/*
 * pmrun_ctl.h: the control block that pmrun shares with a program it
 * schedules (a memfd, mapped MAP_SHARED by pmrun and by every process of
 * the program). Package preload's Go code mirrors this layout; its tests
 * read this file and check that both agree.
 *
 * The block is a header at offset 0 and PMRUN_SLOTS slots of
 * PMRUN_SLOT_SIZE bytes from PMRUN_SLOTS_OFFSET, one a thread of the
 * program. A thread asks pmrun before each synchronization call: it
 * writes the call (op, objects, arguments, call site) into its slot, then
 * the number of the request into seq, adds one to the header's events
 * (waking pmrun if it sleeps there), and waits until pmrun writes that
 * number into the slot's turn, with the answer in reply. Waiting is a
 * short spin, then a futex wait on turn (shared, not PRIVATE: several
 * processes).
 */
#ifndef PMRUN_CTL_H
#define PMRUN_CTL_H

#include <stdint.h>

#define PMRUN_CTL_MAGIC 0x636d7270u /* "prmc" */
#define PMRUN_CTL_VERSION 1
#define PMRUN_SLOTS 1024
#define PMRUN_SLOT_SIZE 256
#define PMRUN_SLOTS_OFFSET 4096
#define PMRUN_CTL_SIZE (PMRUN_SLOTS_OFFSET + PMRUN_SLOTS * PMRUN_SLOT_SIZE)
#define PMRUN_TEXT_SIZE 120

/* The environment variable that holds the control block's descriptor. */
#define PMRUN_CTL_ENV "PMRUN_CTL_FD"

/* Notes: pmrun records them and answers at once; they are not steps. */
#define PMRUN_OP_EXEC 1        /* a new image in a known slot; arg: load bias */
#define PMRUN_OP_FORKED 2      /* arg: the child's pid, or -errno */
#define PMRUN_OP_CREATED 3     /* arg: 0, or the error of pthread_create; arg2: the slot */
#define PMRUN_OP_INIT 4        /* obj initialized; arg: value or count; arg2: kind */
#define PMRUN_OP_DESTROY 5     /* obj destroyed; arg2: kind */
#define PMRUN_OP_SEM_OPEN 6    /* obj opened by name (text); arg: its value */
#define PMRUN_OP_SEM_CLOSE 7
#define PMRUN_OP_ASSERT 8      /* text: the failed assertion; arg: its line */
#define PMRUN_OP_END 9         /* the thread ends (not answered) */
#define PMRUN_OP_NAME 10       /* text: the thread's new name */
#define PMRUN_OP_LAST_NOTE 15

/* Points: the thread waits there until pmrun chooses it. */
#define PMRUN_OP_START 16      /* a self-registered thread's first step; arg: load bias */
#define PMRUN_OP_CREATE 17     /* arg: the start routine; reply_arg: the new slot */
#define PMRUN_OP_JOIN 18       /* obj: the pthread_t joined */
#define PMRUN_OP_FORK 19       /* reply_arg: the child's slot */
#define PMRUN_OP_WAITPID 20    /* arg: pid (as waitpid), arg2: options */
#define PMRUN_OP_MUTEX_LOCK 21 /* arg: the mutex's type; arg2: lock word, owner tid << 32 */
#define PMRUN_OP_MUTEX_TRYLOCK 22
#define PMRUN_OP_MUTEX_UNLOCK 23
#define PMRUN_OP_COND_WAIT 24  /* obj: cond, obj2: mutex */
#define PMRUN_OP_COND_REACQ 25 /* the second step of a wait: take the mutex back */
#define PMRUN_OP_COND_SIGNAL 26
#define PMRUN_OP_COND_BROADCAST 27
#define PMRUN_OP_SEM_WAIT 28   /* arg: the semaphore's value now */
#define PMRUN_OP_SEM_TRYWAIT 29
#define PMRUN_OP_SEM_POST 30
#define PMRUN_OP_RW_RDLOCK 31
#define PMRUN_OP_RW_WRLOCK 32
#define PMRUN_OP_RW_TRYRDLOCK 33
#define PMRUN_OP_RW_TRYWRLOCK 34
#define PMRUN_OP_RW_UNLOCK 35
#define PMRUN_OP_SPIN_LOCK 36
#define PMRUN_OP_SPIN_TRYLOCK 37
#define PMRUN_OP_SPIN_UNLOCK 38
#define PMRUN_OP_BARRIER_WAIT 39  /* reply_arg 1: the barrier opened (this is its serial thread) */
#define PMRUN_OP_BARRIER_LEAVE 40 /* the second step of a waiter: after the barrier opened */
#define PMRUN_OP_YIELD 41
#define PMRUN_OP_SLEEP 42      /* arg: nanoseconds */
#define PMRUN_OP_POINT 43      /* text: the point's name */
#define PMRUN_OP_EXIT 44       /* exit(): the process ends; arg: status */

/* Flags of a request. */
#define PMRUN_FLAG_SHARED 1u   /* the object is process-shared */
#define PMRUN_FLAG_TIMED 2u    /* the call has a timeout: it may return ETIMEDOUT */

/* Object kinds (INIT, DESTROY). */
#define PMRUN_KIND_MUTEX 1
#define PMRUN_KIND_COND 2
#define PMRUN_KIND_SEM 3
#define PMRUN_KIND_RWLOCK 4
#define PMRUN_KIND_SPIN 5
#define PMRUN_KIND_BARRIER 6

/* reply: 0 go on, an errno to return it, or PMRUN_FREE: pmrun no longer
 * controls the program, make the call as it is. */
#define PMRUN_FREE (-1)

struct pmrun_hdr {
	uint32_t magic;        /* 0 */
	uint32_t version;      /* 4 */
	uint32_t nslots;       /* 8 */
	uint32_t slot_size;    /* 12 */
	uint32_t next_slot;    /* 16: slots handed out so far */
	uint32_t spin;         /* 20: how long a thread spins before it sleeps */
	uint32_t closed;       /* 24: pmrun stopped controlling; run free */
	uint32_t pad0[9];      /* to 64 */
	uint32_t events;       /* 64: futex word pmrun sleeps on; every request adds one */
	uint32_t ctl_sleeping; /* 68: pmrun sleeps (or is about to) on events */
	uint32_t pad1[14];     /* to 128 */
};

struct pmrun_slot {
	/* Written by pmrun. */
	uint32_t turn;      /* 0: futex word, the number of the last request answered */
	uint32_t sleeping;  /* 4: the thread sleeps (or is about to) on turn */
	int32_t reply;      /* 8 */
	uint32_t park;      /* 12: pmrun chose another thread for request park: sleep now */
	int64_t reply_arg;  /* 16 */
	uint8_t pad1[40];   /* to 64 */
	/* Written by the thread. */
	uint32_t seq;       /* 64: the number of its last request */
	uint32_t op;        /* 68 */
	uint32_t flags;     /* 72 */
	int32_t pid;        /* 76 */
	int32_t tid;        /* 80 */
	int32_t pad2;       /* 84 */
	uint64_t obj;       /* 88 */
	uint64_t obj2;      /* 96 */
	int64_t arg;        /* 104 */
	int64_t arg2;       /* 112 */
	uint64_t site;      /* 120: the caller's return address */
	uint64_t self;      /* 128: pthread_self() */
	char text[PMRUN_TEXT_SIZE]; /* 136 */
};

#endif
