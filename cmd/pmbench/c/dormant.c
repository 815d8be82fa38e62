// The dormant-library row: N rounds of the synchronization calls pmrun's
// library stands in for — a mutex locked and unlocked, a semaphore posted
// and waited, a condition signalled, a yield-free spin lock — in one
// thread, uncontended, so that each call is as cheap as glibc makes it
// and the library's own cost, a load and a branch before the call, shows.
// pmbench runs it with the library in LD_PRELOAD and no pmrun, and
// without. Prints the seconds the loop took.
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 10000000;
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t c = PTHREAD_COND_INITIALIZER;
    pthread_spinlock_t s;
    sem_t sem;
    pthread_spin_init(&s, 0);
    sem_init(&sem, 0, 0);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&m);
        pthread_cond_signal(&c);
        pthread_mutex_unlock(&m);
        sem_post(&sem);
        sem_wait(&sem);
        pthread_spin_lock(&s);
        pthread_spin_unlock(&s);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
