/*
 * abba.c: two threads move money between two accounts, each taking both
 * accounts' locks: transfer() locks the account it takes from first. One
 * thread pays from a to b while the other pays from b to a: each may hold
 * its first lock and wait for the other's, for ever.
 *
 * Built with -DFIXED, every thread locks the accounts in one order (the
 * lower address first), so no cycle of waits can form.
 */
#include <pthread.h>
#include <stdio.h>

struct account {
	pthread_mutex_t lock;
	int balance;
};

static struct account a = {PTHREAD_MUTEX_INITIALIZER, 100}, b = {PTHREAD_MUTEX_INITIALIZER, 100};

static void transfer(struct account *from, struct account *to, int amount)
{
	struct account *first = from, *second = to;
#ifdef FIXED
	if (to < from) {
		first = to;
		second = from;
	}
#endif
	pthread_mutex_lock(&first->lock);
	pthread_mutex_lock(&second->lock);
	from->balance -= amount;
	to->balance += amount;
	pthread_mutex_unlock(&second->lock);
	pthread_mutex_unlock(&first->lock);
}

static void *alice(void *arg)
{
	transfer(&a, &b, 10);
	return arg;
}

static void *bob(void *arg)
{
	transfer(&b, &a, 20);
	return arg;
}

int main(void)
{
	pthread_t t1, t2;
	pthread_create(&t1, NULL, alice, NULL);
	pthread_create(&t2, NULL, bob, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("a = %d, b = %d\n", a.balance, b.balance);
	return a.balance + b.balance == 200 ? 0 : 1;
}
