// What the program sees of the shim's own heap (tests/preload/private_heap_test.cc).
// Every mode leaks 5 x 40 B from leak_five() first, so each report has one
// known site.
//   modules LIB   dlopens LIB, prints how many bytes of the heap the dlopen
//                 took (dlopen_bytes=N), then every loaded module's file name
//                 (module=NAME, from dl_iterate_phdr)
//   keys          creates pthread keys until refused, prints keys=N
//   threads       the threads private_heap_early.c's constructor started
//                 (each allocated before the shim's constructor ran) and as
//                 many started from main allocate, free and leak 3 blocks each
//   fork          a child leaks 3 x 72 B and exits; prints child=STATUS
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "private_heap_early.h"

#define NOINLINE __attribute__((noinline))

static void* volatile g_keep[64];
static int g_kept;
static pthread_mutex_t g_keep_lock = PTHREAD_MUTEX_INITIALIZER;
static void Keep(void* p) {
  pthread_mutex_lock(&g_keep_lock);
  g_keep[g_kept++ % 64] = p;
  pthread_mutex_unlock(&g_keep_lock);
}

NOINLINE void leak_five(void) {
  for (int i = 0; i < 5; ++i) Keep(malloc(40));
}

// --- modules ------------------------------------------------------------------
static int PrintModule(struct dl_phdr_info* info, size_t size, void* unused) {
  (void)size;
  (void)unused;
  char name[4096];
  snprintf(name, sizeof name, "%s", info->dlpi_name);
  printf("module=%s\n", name[0] ? basename(name) : "(main)");
  return 0;
}
static int Modules(const char* lib) {
  const struct mallinfo2 before = mallinfo2();
  void* h = dlopen(lib, RTLD_NOW);
  const struct mallinfo2 after = mallinfo2();
  if (!h) {
    fprintf(stderr, "dlopen %s: %s\n", lib, dlerror());
    return 1;
  }
  printf("dlopen_bytes=%zu\n", after.uordblks - before.uordblks);
  dl_iterate_phdr(PrintModule, NULL);
  return 0;
}

// --- keys ---------------------------------------------------------------------
static int Keys(void) {
  int keys = 0;
  pthread_key_t k;
  while (pthread_key_create(&k, NULL) == 0) ++keys;
  printf("keys=%d\n", keys);
  return 0;
}

// --- threads ------------------------------------------------------------------
NOINLINE void late_thread_leak(void) {
  for (int i = 0; i < 3; ++i) Keep(malloc(56));
}
static void* LateThread(void* unused) {
  (void)unused;
  for (int i = 0; i < 1000; ++i) free(malloc(16 + i % 512));
  late_thread_leak();
  return NULL;
}
static int Threads(void) {
  early_threads_go();
  pthread_t t[EARLY_THREADS];
  for (int i = 0; i < EARLY_THREADS; ++i)
    if (pthread_create(&t[i], NULL, LateThread, NULL) != 0) return 1;
  for (int i = 0; i < EARLY_THREADS; ++i) pthread_join(t[i], NULL);
  early_threads_join();
  printf("threads early=%d late=%d\n", EARLY_THREADS, EARLY_THREADS);
  return 0;
}

// --- fork ---------------------------------------------------------------------
NOINLINE void child_leak(void) {
  for (int i = 0; i < 3; ++i) Keep(malloc(72));
}
static int Fork(void) {
  const pid_t pid = fork();
  if (pid < 0) return 1;
  if (pid == 0) {
    for (int i = 0; i < 1000; ++i) free(malloc(24 + i % 256));
    child_leak();
    exit(0);
  }
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 1;
  printf("child=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}

int main(int argc, char** argv) {
  leak_five();
  if (argc < 2) return 2;
  const char* mode = argv[1];
  if (!strcmp(mode, "keys")) return Keys();
  if (!strcmp(mode, "threads")) return Threads();
  if (!strcmp(mode, "fork")) return Fork();
  if (!strcmp(mode, "modules") && argc > 2) return Modules(argv[2]);
  return 2;
}
