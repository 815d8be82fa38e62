// Baseline for the controlled-switches row: two threads pass a turn back
// and forth through two sem_t, N switches in all, as pmrun's controlled
// scheduler passes the turn between two real threads. Each thread names
// itself. Prints the elapsed seconds from before the threads are created
// to after they are joined.
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

static sem_t turn[2];
static long switches;

static void *player(void *arg) {
    long me = (long)arg;
    prctl(PR_SET_NAME, me ? "B" : "A");
    // Thread 0 takes switches 0, 2, 4, …; thread 1 takes 1, 3, 5, …
    for (long i = me; i < switches; i += 2) {
        sem_wait(&turn[me]);
        sem_post(&turn[1 - me]);
    }
    return NULL;
}

int main(int argc, char **argv) {
    switches = argc > 1 ? atol(argv[1]) : 1000000;
    struct timespec a, b;
    sem_init(&turn[0], 0, 1);
    sem_init(&turn[1], 0, 0);
    clock_gettime(CLOCK_MONOTONIC, &a);
    pthread_t t[2];
    for (long i = 0; i < 2; i++) {
        if (pthread_create(&t[i], NULL, player, (void *)i) != 0) {
            perror("pthread_create");
            return 1;
        }
    }
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
