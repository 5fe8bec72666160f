// Allocations whose call chain crosses frames without unwind tables, as
// Node.js's do through V8's JIT code: leaf <- through_tables <- table_less_inner
// <- table_less_outer (table_less_frames.c: frame pointers, no unwind tables)
// <- from_main / from_thread <- main / the thread's start. The shim's walk
// must cross them by their frame pointers and go on by the CFI beyond.
// Leaks 5 x 48 B from main's chain, then 3 x 80 B from a thread's. Before
// those, kWarmUp allocations (freed) from chains with tables at as many stack
// pointers: main's later ones come after its first misses (stack_unwind.h:
// the fast trace's turn), the thread's during them.
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

void table_less_outer(void (*fn)(size_t), size_t size);  // table_less_frames.c

enum { kWarmUp = 40 };
void* volatile g_keep[8];
int g_kept;

__attribute__((noinline)) void leaf(size_t size) {
  g_keep[g_kept++] = malloc(size);  // LEAF_LINE
  // No tail call: keep the frame.
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void through_tables(size_t size) {
  leaf(size);
  __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) void from_main(void) {
  for (int i = 0; i < 5; ++i) {
    table_less_outer(through_tables, 48);
    __asm__ volatile("" ::: "memory");
  }
}

__attribute__((noinline)) void* from_thread(void* arg) {
  for (int i = 0; i < 3; ++i) {
    table_less_outer(through_tables, 80);
    __asm__ volatile("" ::: "memory");
  }
  return arg;
}

// One allocation (freed) `depth` frames down: each depth is a stack pointer
// of its own, so each is a miss of the stack cache.
__attribute__((noinline)) void warm_up(int depth) {
  if (depth > 0) {
    warm_up(depth - 1);
    __asm__ volatile("" ::: "memory");
    return;
  }
  void* volatile p = malloc(16);
  free(p);
}

int main(void) {
  for (int i = 0; i < kWarmUp; ++i) warm_up(i);
  from_main();
  pthread_t t;
  if (pthread_create(&t, NULL, from_thread, NULL) != 0) return 2;
  if (pthread_join(t, NULL) != 0) return 3;
  return 0;
}
