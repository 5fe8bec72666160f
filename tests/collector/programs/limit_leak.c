/* A leak that runs into its memory limit, for tests/collector/dumps_test.cc.
 *   limit_leak BLOCKS DIR|- grow|hold [THRASH_FILE]
 * Allocates BLOCKS blocks of 1 MiB in LeakMebibyte() without touching them,
 * waits until the collector has applied those events (leakscope_mark()),
 * then touches them: the memory the cgroup (or RSS) counts rises only now,
 * after the collector knows every block. With DIR, it then waits (at most
 * 60 s, exit 4) until a snapshot ("*.snap-*") is put there after the touch
 * (inotify: the rename that puts a report in place), printing its name;
 * meanwhile, with THRASH_FILE, it reads that file again and again, dropped
 * from the page cache first each time, so that reclaim in a small cgroup
 * makes memory pressure. Then "grow" allocates and touches 1 MiB blocks in
 * LeakMore() until it is killed (exit 3 after 2 GiB: no limit stopped it);
 * "hold" waits for stdin to close, then exits 0. Prints its pid first and a
 * line per stage. */
#include <fcntl.h>
#include <leakscope.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <time.h>
#include <unistd.h>

enum { kMebibyte = 1 << 20, kGrowCap = 2048 };

static void* volatile g_blocks[4096];

__attribute__((noinline)) static void* LeakMebibyte(void) {
  return malloc(kMebibyte);
}
__attribute__((noinline)) static void* LeakMore(void) {
  return malloc(kMebibyte);
}

static double Now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

/* Reads `path` whole, from the disk: its cached pages are dropped first. */
static void ReadCold(const char* path) {
  static char buf[1 << 16];
  const int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) exit(5);
  posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  while (read(fd, buf, sizeof buf) > 0) {
  }
  close(fd);
}

/* The name of a snapshot that appeared in the watched folder, or NULL. */
static const char* NewSnapshot(int watch) {
  static char events[8192] __attribute__((aligned(8)));
  const ssize_t n = read(watch, events, sizeof events);
  for (ssize_t at = 0; at < n;) {
    const struct inotify_event* e = (const struct inotify_event*)(events + at);
    if (e->len && strstr(e->name, ".snap-") && !strstr(e->name, ".tmp.")) return e->name;
    at += sizeof *e + e->len;
  }
  return NULL;
}

static int WaitForSnapshot(int watch, const char* thrash) {
  const double deadline = Now() + 60;
  for (;;) {
    const char* name = NewSnapshot(watch);
    if (name) return printf("snapshot seen %s\n", name), 0;
    if (Now() > deadline) return 4;
    if (thrash) {
      ReadCold(thrash);
      continue;
    }
    struct pollfd p = {watch, POLLIN, 0};
    poll(&p, 1, (int)((deadline - Now()) * 1000) + 1);
  }
}

int main(int argc, char** argv) {
  if (argc != 4 && argc != 5) return 2;
  setvbuf(stdout, NULL, _IONBF, 0);
  const int blocks = atoi(argv[1]);
  const int wait = strcmp(argv[2], "-") != 0;
  printf("pid %d\n", (int)getpid());
  const int watch = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
  if (wait && inotify_add_watch(watch, argv[2], IN_MOVED_TO) < 0) return 6;
  for (int i = 0; i < blocks; ++i) g_blocks[i] = LeakMebibyte();
  leakscope_mark(); /* the collector has every block before they count */
  for (int i = 0; i < blocks; ++i) memset(g_blocks[i], 1, kMebibyte);
  printf("touched %d MiB\n", blocks);
  if (wait && WaitForSnapshot(watch, argc == 5 ? argv[4] : NULL) != 0) return 4;
  if (strcmp(argv[3], "hold") == 0) {
    while (getchar() != EOF) {
    }
    return 0;
  }
  for (int i = 0; i < kGrowCap; ++i) memset(LeakMore(), 1, kMebibyte);
  return 3;
}
