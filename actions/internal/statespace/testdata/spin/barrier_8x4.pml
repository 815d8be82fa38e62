/* Downey's reusable barrier, 8 threads, 4 rounds */
#define wait(s)   atomic { s > 0 -> s-- }
#define signal(s) s++
#define lock(m)   atomic { m == 0 -> m = 1 }
#define unlock(m) m = 0
#define N 8
#define R 4
byte count = 0;
byte arrived = 0;
byte mutex = 1;
byte turnstile = 0;
byte turnstile2 = 1;
byte ended = 0;
active [N] proctype W() {
  byte round = 0;
  byte tmp;
  do
  :: round < R ->
     arrived++;
     wait(mutex);
     tmp = count; atomic { count = tmp + 1; tmp = 0 };
     if
     :: count == N -> wait(turnstile2); signal(turnstile)
     :: else -> skip
     fi;
     signal(mutex);
     wait(turnstile); signal(turnstile);
     round++;
     assert(arrived >= N * round);
     wait(mutex);
     tmp = count; atomic { count = tmp - 1; tmp = 0 };
     if
     :: count == 0 -> wait(turnstile); signal(turnstile2)
     :: else -> skip
     fi;
     signal(mutex);
     wait(turnstile2); signal(turnstile2)
  :: else -> break
  od;
  ended++
}
active proctype Check() {
  ended == N;
  assert(count == 0 && arrived == N * R)
}
