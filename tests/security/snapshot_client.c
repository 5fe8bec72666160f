/* A traced program that asks for snapshots through leakscope.h, for
 * client_paths_test.cc. Arguments, one request each: "path:P" calls
 * leakscope_snapshot(P), "label:L" leakscope_snapshot_labeled(L), "none"
 * leakscope_snapshot(NULL). Prints its pid, then one line per request. */
#include <leakscope.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void* volatile g_kept;

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IONBF, 0);
  g_kept = malloc(4242);
  printf("pid %d\n", (int)getpid());
  for (int i = 1; i < argc; ++i) {
    if (strncmp(argv[i], "path:", 5) == 0) {
      printf("path %d\n", leakscope_snapshot(argv[i] + 5));
    } else if (strncmp(argv[i], "label:", 6) == 0) {
      leakscope_snapshot_info info;
      const int status = leakscope_snapshot_labeled(argv[i] + 6, &info);
      printf("label %d %s%s\n", status, info.path, info.error);
    } else {
      printf("none %d\n", leakscope_snapshot(NULL));
    }
  }
  free(g_kept);
  return 0;
}
