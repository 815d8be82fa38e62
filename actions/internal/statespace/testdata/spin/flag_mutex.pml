/* a flag as a lock: testing it and raising it are two steps, so two threads get in */
#define wait(s)   atomic { s > 0 -> s-- }
#define signal(s) s++
#define lock(m)   atomic { m == 0 -> m = 1 }
#define unlock(m) m = 0
byte flag = 0;
byte inside = 0;
active [2] proctype T() {
  byte i = 0;
  byte tmp;
  do
  :: i < 2 ->
     do
     :: flag == 1 -> skip
     :: else -> break
     od;
     flag = 1;
     atomic { assert(inside == 0); inside++ };
     skip;
     inside--;
     flag = 0;
     i++
  :: else -> break
  od
}
