/* The same program before and after an edit that moves its leaks' lines,
 * for baseline_shift_test.cc: tests/viewer/CMakeLists.txt builds this file
 * as it is and a copy with comment lines added at SHIFT, both with their
 * directory mapped to one path in the debug info, as two builds of one
 * checkout would be. leak_twice leaks 100 B and 200 B; with an argument,
 * 300 B more at a third line of the same function. */
#include <stdlib.h>

void* volatile kept[3];

__attribute__((noinline)) void leak_twice(int extra) {
  /* SHIFT */
  kept[0] = malloc(100);
  kept[1] = malloc(200);
  if (extra) kept[2] = malloc(300);
}

int main(int argc, char** argv) {
  (void)argv;
  leak_twice(argc > 1);
  return 0;
}
