/* 6 threads each add 1 to count 2 times, a read then a write: updates are lost */
#define wait(s)   atomic { s > 0 -> s-- }
#define signal(s) s++
#define lock(m)   atomic { m == 0 -> m = 1 }
#define unlock(m) m = 0
#define N 6
#define K 2
byte count = 0;
byte ended = 0;
active [N] proctype T() {
  byte i = 0;
  byte tmp;
  do
  :: i < K -> tmp = count; atomic { count = tmp + 1; tmp = 0 }; i++
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
