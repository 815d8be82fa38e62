/* Downey's rendezvous ended wrong: each waits before it signals */
#define wait(s)   atomic { s > 0 -> s-- }
#define signal(s) s++
#define lock(m)   atomic { m == 0 -> m = 1 }
#define unlock(m) m = 0
byte aArrived = 0;
byte bArrived = 0;
active proctype A() { skip; wait(bArrived); signal(aArrived); skip }
active proctype B() { skip; wait(aArrived); signal(bArrived); skip }
