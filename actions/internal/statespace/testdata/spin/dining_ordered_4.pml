/* 4 dining philosophers, the lower fork first, 1 meal each */
#define wait(s)   atomic { s > 0 -> s-- }
#define signal(s) s++
#define lock(m)   atomic { m == 0 -> m = 1 }
#define unlock(m) m = 0
bit f0 = 0;
bit f1 = 0;
bit f2 = 0;
bit f3 = 0;
active proctype P0() {
  byte i = 0;
  do
  :: i < 1 -> lock(f0); lock(f1); skip; unlock(f1); unlock(f0); i++
  :: else -> break
  od
}
active proctype P1() {
  byte i = 0;
  do
  :: i < 1 -> lock(f1); lock(f2); skip; unlock(f2); unlock(f1); i++
  :: else -> break
  od
}
active proctype P2() {
  byte i = 0;
  do
  :: i < 1 -> lock(f2); lock(f3); skip; unlock(f3); unlock(f2); i++
  :: else -> break
  od
}
active proctype P3() {
  byte i = 0;
  do
  :: i < 1 -> lock(f0); lock(f3); skip; unlock(f3); unlock(f0); i++
  :: else -> break
  od
}
