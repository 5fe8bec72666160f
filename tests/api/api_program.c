/* The in-process API from C: prints what each call returned, one line per
 * step, for api_test.cc. Argument: where to write a snapshot. */
#include <leakscope.h>
#include <stdio.h>
#include <stdlib.h>

static void* volatile g_kept;

__attribute__((noinline)) static void* KeepThis(size_t n) {
  return malloc(n);
}

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  setvbuf(stdout, NULL, _IONBF, 0); /* no stdio buffer allocated mid-way */
  printf("active %d\n", leakscope_active());
  leakscope_mark_t mark = leakscope_mark();
  printf("mark status %d\n", mark.status);

  g_kept = KeepThis(1000);
  void* freed = malloc(300);
  free(freed);
  leakscope_live live;
  int status = leakscope_live_since(mark, NULL, &live);
  printf("live status %d bytes %llu allocations %llu sites %u estimated %d\n", status,
         (unsigned long long)live.bytes, (unsigned long long)live.allocations, live.site_count,
         live.estimated);

  /* Paused: not recorded. A block from before the pause freed during it is. */
  void* before = malloc(40);
  leakscope_pause();
  void* unseen = malloc(5000);
  free(before);
  leakscope_resume();
  status = leakscope_live_since(mark, NULL, &live);
  printf("after pause status %d bytes %llu\n", status, (unsigned long long)live.bytes);

  /* A pool block reported like malloc, then given back. */
  static char arena[256];
  leakscope_report_alloc(arena, 64);
  status = leakscope_live_since(mark, NULL, &live);
  printf("pool status %d bytes %llu\n", status, (unsigned long long)live.bytes);
  leakscope_report_free(arena);
  status = leakscope_live_since(mark, NULL, &live);
  printf("pool freed status %d bytes %llu\n", status, (unsigned long long)live.bytes);

  printf("snapshot %d\n", leakscope_snapshot(argv[1]));
  free(unseen);
  free(g_kept);
  return 0;
}
