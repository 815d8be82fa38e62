/* Peterson's mutual exclusion for two threads, two entries each */
#define wait(s)   atomic { s > 0 -> s-- }
#define signal(s) s++
#define lock(m)   atomic { m == 0 -> m = 1 }
#define unlock(m) m = 0
bool f0 = false;
bool f1 = false;
byte turn = 0;
byte inside = 0;
active proctype A() {
  byte i = 0;
  do
  :: i < 2 ->
     f0 = true; turn = 1;
     do
     :: f1 && turn == 1 -> skip
     :: else -> break
     od;
     atomic { assert(inside == 0); inside++ };
     skip;
     inside--;
     f0 = false;
     i++
  :: else -> break
  od
}
active proctype B() {
  byte i = 0;
  do
  :: i < 2 ->
     f1 = true; turn = 0;
     do
     :: f0 && turn == 0 -> skip
     :: else -> break
     od;
     atomic { assert(inside == 0); inside++ };
     skip;
     inside--;
     f1 = false;
     i++
  :: else -> break
  od
}
