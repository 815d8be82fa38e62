/* 8 dining philosophers, the left fork first, 1 meal each */
#define lock(m)   atomic { m == 0 -> m = 1 }
#define unlock(m) m = 0
bit f0 = 0;
bit f1 = 0;
bit f2 = 0;
bit f3 = 0;
bit f4 = 0;
bit f5 = 0;
bit f6 = 0;
bit f7 = 0;
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
  :: i < 1 -> lock(f3); lock(f4); skip; unlock(f4); unlock(f3); i++
  :: else -> break
  od
}
active proctype P4() {
  byte i = 0;
  do
  :: i < 1 -> lock(f4); lock(f5); skip; unlock(f5); unlock(f4); i++
  :: else -> break
  od
}
active proctype P5() {
  byte i = 0;
  do
  :: i < 1 -> lock(f5); lock(f6); skip; unlock(f6); unlock(f5); i++
  :: else -> break
  od
}
active proctype P6() {
  byte i = 0;
  do
  :: i < 1 -> lock(f6); lock(f7); skip; unlock(f7); unlock(f6); i++
  :: else -> break
  od
}
active proctype P7() {
  byte i = 0;
  do
  :: i < 1 -> lock(f7); lock(f0); skip; unlock(f0); unlock(f7); i++
  :: else -> break
  od
}
