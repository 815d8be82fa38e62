/* 4 threads each add 1 to count 3 times under a mutex */
#define wait(s)   atomic { s > 0 -> s-- }
#define signal(s) s++
#define lock(m)   atomic { m == 0 -> m = 1 }
#define unlock(m) m = 0
#define N 4
#define K 3
byte count = 0;
byte ended = 0;
bit m = 0;
active [N] proctype T() {
  byte i = 0;
  byte tmp;
  do
  :: i < K -> lock(m); tmp = count; atomic { count = tmp + 1; tmp = 0 }; unlock(m); i++
  :: else -> break
  od;
  ended++
}
active proctype Check() {
  ended == N;
#ifdef FINALS
  printf("FINAL count=%d\n", count)
#else
  assert(count == N * K)
#endif
}
