// A library of our own for tests/preload/unharmed_test.cc: loaded
// RTLD_DEEPBIND, its calls to malloc and free would bind to libc's first.
#include <stdlib.h>

static void* volatile g_kept[4];

__attribute__((noinline)) void deep_take_and_free(char* s) {
  free(s);
}

__attribute__((noinline)) void deep_keep(void) {
  for (int i = 0; i < 4; ++i) g_kept[i] = malloc(50);
}
