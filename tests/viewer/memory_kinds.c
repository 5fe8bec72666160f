/* Programs whose RSS grows in each of the ways the "Memory" section tells
 * apart (memory_breakdown_test.cc). Every block is written, so RSS follows.
 *   memory_kinds heap     leaks 64 x 64 KiB from malloc: the live heap grows
 *   memory_kinds frag     4096 x 4000 B, then frees 3 of every 4 (interleaved):
 *                         1024 x 4000 B live, the rest kept by malloc
 *   memory_kinds threads  4 threads with 256 KiB stacks, each writing 64 KiB
 *                         of its stack, alive when the process exits
 *   memory_kinds mmap     anonymous mappings (mmap_leaks(): see there) */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define KIB 1024

void* volatile kept[4096];

__attribute__((noinline)) void heap_leak(void) {
  for (int i = 0; i < 64; ++i) kept[i] = memset(malloc(64 * KIB), 1, 64 * KIB);
}

__attribute__((noinline)) void fragment(void) {
  for (int i = 0; i < 4096; ++i) kept[i] = memset(malloc(4000), 1, 4000);
  for (int i = 0; i < 4096; ++i)
    if (i % 4 != 0) free(kept[i]);
}

/* 8 x 256 KiB anonymous mappings, every page written, and one unmapped:
 * 1.75 MiB of the program's own mappings, none of it heap. */
__attribute__((noinline)) void mmap_leaks(void) {
  for (int i = 0; i < 8; ++i) {
    kept[i] = mmap(NULL, 256 * KIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (kept[i] == MAP_FAILED) exit(3);
    memset(kept[i], 1, 256 * KIB);
  }
  munmap(kept[7], 256 * KIB);
}

static pthread_barrier_t started;

static void* write_stack(void* arg) {
  volatile char buf[64 * KIB];
  for (size_t i = 0; i < sizeof buf; i += 1024) buf[i] = 1; /* volatile: every page written */
  pthread_barrier_wait(&started);
  for (;;) pause(); /* alive until the process exits */
  return arg;
}

__attribute__((noinline)) void threads(void) {
  pthread_barrier_init(&started, NULL, 5);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * KIB);
  for (int i = 0; i < 4; ++i) {
    pthread_t t;
    pthread_create(&t, &attr, write_stack, NULL);
  }
  pthread_barrier_wait(&started);
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (!strcmp(mode, "heap")) heap_leak();
  else if (!strcmp(mode, "frag")) fragment();
  else if (!strcmp(mode, "threads")) threads();
  else if (!strcmp(mode, "mmap")) mmap_leaks();
  else return 2;
  exit(0);
}
