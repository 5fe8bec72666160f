/* A heap that grows in known steps, for tests/collector/dumps_test.cc.
 *   heap_steps KIB... [wait]
 * For each KIB: one block of KIB KiB from HeapStep(), touched, then
 * leakscope_mark(): the collector has applied it (and taken any dump it
 * called for) before the next step. Prints its pid first and "ready" after
 * the last step; with "wait" it then waits for stdin to close. */
#include <leakscope.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void* volatile g_kept[64];

__attribute__((noinline)) static void* HeapStep(size_t bytes) {
  return malloc(bytes);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  printf("pid %d\n", (int)getpid());
  int wait = 0;
  for (int i = 1; i < argc && i < 64; ++i) {
    if (strcmp(argv[i], "wait") == 0) {
      wait = 1;
      continue;
    }
    const size_t bytes = (size_t)atol(argv[i]) * 1024;
    g_kept[i] = HeapStep(bytes);
    memset(g_kept[i], 1, bytes);
    leakscope_mark();
  }
  printf("ready\n");
  if (wait)
    while (getchar() != EOF) {
    }
  return 0;
}
