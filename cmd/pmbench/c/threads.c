// Baseline for the thread row: pthread_create + pthread_cancel +
// pthread_join, N times. Each thread names itself, as a pmrun thread is
// named, and blocks at a cancellation point until it is cancelled.
// Prints the elapsed seconds of the loop.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static void *idle(void *arg) {
    (void)arg;
    prctl(PR_SET_NAME, "bench");
    for (;;)
        pause(); // a cancellation point
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        pthread_t t;
        void *ret;
        if (pthread_create(&t, NULL, idle, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
        if (pthread_cancel(t) != 0 || pthread_join(t, &ret) != 0 || ret != PTHREAD_CANCELED) {
            fprintf(stderr, "thread %d was not cancelled\n", i);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("%.6f\n", (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9);
    return 0;
}
