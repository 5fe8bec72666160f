// Compiled without unwind tables and with frame pointers (CMakeLists.txt):
// frames only a frame-pointer walk can cross, as V8's JIT code is.
#include <stddef.h>

__attribute__((noinline)) void table_less_inner(void (*fn)(size_t), size_t size) {
  fn(size);
  __asm__ volatile("" ::: "memory");  // no tail call: keep the frame
}

__attribute__((noinline)) void table_less_outer(void (*fn)(size_t), size_t size) {
  table_less_inner(fn, size);
  __asm__ volatile("" ::: "memory");
}
