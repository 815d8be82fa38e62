/* 2 producers and 2 consumers of 2 items each through a buffer of 2: the consumer takes the mutex before it waits for an item */
#define wait(s)   atomic { s > 0 -> s-- }
#define signal(s) s++
#define lock(m)   atomic { m == 0 -> m = 1 }
#define unlock(m) m = 0
byte stock = 0;
byte made = 0;
byte mutex = 1;
byte items = 0;
byte spaces = 2;
byte ended = 0;
active [2] proctype P() {
  byte i = 0;
  byte tmp;
  do
  :: i < 2 -> wait(spaces); wait(mutex); tmp = stock; atomic { stock = tmp + 1; tmp = 0 }; assert(stock <= 2); made++; signal(mutex); signal(items); i++
  :: else -> break
  od;
  ended++
}
active [2] proctype C() {
  byte i = 0;
  byte tmp;
  do
  :: i < 2 -> wait(mutex); wait(items); tmp = stock; atomic { stock = tmp - 1; tmp = 0 }; assert(stock >= 0 && stock <= 2); signal(mutex); signal(spaces); i++
  :: else -> break
  od;
  ended++
}
active proctype Check() {
  ended == 4;
#ifdef FINALS
  printf("FINAL stock=%d\n", stock)
#else
  assert(stock == 0)
#endif
}
