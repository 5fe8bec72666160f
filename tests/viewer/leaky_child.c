/* The program `leakscope run` traces in the end-to-end tests. Known figures:
 * leak_hundreds() leaks 10 x 100 B; churn() allocates 5 x 64 B and frees them.
 *   leaky_child exit3      leaks, then exit(3)
 *   leaky_child sigkill    leaks, waits until the shim has opened its stream,
 *                          then kills itself with SIGKILL
 *   leaky_child check-fds  exit 1 if it inherited the collector's listening
 *                          socket or an epoll/event fd, else 0 */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void* volatile kept[10];

__attribute__((noinline)) void leak_hundreds(void) {
  for (int i = 0; i < 10; ++i) kept[i] = malloc(100);
}

__attribute__((noinline)) void churn(void) {
  void* volatile p[5];
  for (int i = 0; i < 5; ++i) p[i] = malloc(64);
  for (int i = 0; i < 5; ++i) free(p[i]);
}

static int IsListeningSocket(int fd) {
  int listening = 0;
  socklen_t len = sizeof listening;
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) == 0 && listening;
}

static int InheritedCollectorFds(void) {
  int found = 0;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == NULL) return 1;
  struct dirent* entry;
  while ((entry = readdir(dir)) != NULL) {
    const int fd = atoi(entry->d_name);
    if (fd < 3 || fd == dirfd(dir)) continue;
    char path[64], target[256] = {0};
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    if (readlink(path, target, sizeof target - 1) < 0) continue;
    if (IsListeningSocket(fd) || strstr(target, "anon_inode:[event") != NULL ||
        strstr(target, "anon_inode:[signalfd]") != NULL ||
        strstr(target, "anon_inode:[timerfd]") != NULL) {
      fprintf(stderr, "inherited fd %d -> %s\n", fd, target);
      found = 1;
    }
  }
  closedir(dir);
  return found;
}

/* Bytes this process has passed to write() so far, all threads. Read with
 * plain read() so that polling allocates nothing (the shim would see it). */
static long BytesWritten(int io_fd) {
  char buf[512];
  const ssize_t n = pread(io_fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return -1;
  buf[n] = '\0';
  const char* wchar = strstr(buf, "wchar: ");
  return wchar == NULL ? -1 : atol(wchar + strlen("wchar: "));
}

/* The shim connects from its drain thread; a process killed before that has
 * no stream and so no report. This program writes nothing itself, so 64
 * bytes written mean the shim sent its stream header and hello frame (pid,
 * argv, module paths). Events not yet drained when SIGKILL lands are lost:
 * that is what SIGKILL means. */
static void WaitForShimStream(void) {
  const int io_fd = open("/proc/self/io", O_RDONLY | O_CLOEXEC);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  do {
    if (BytesWritten(io_fd) >= 64) break;
    sched_yield();
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (now.tv_sec - start.tv_sec < 10);
  close(io_fd);
}

int main(int argc, char** argv) {
  if (argc != 2) return 64;
  if (strcmp(argv[1], "check-fds") == 0) return InheritedCollectorFds();
  leak_hundreds();
  churn();
  if (strcmp(argv[1], "sigkill") == 0) {
    WaitForShimStream();
    raise(SIGKILL);
  }
  if (strcmp(argv[1], "exit3") == 0) exit(3);
  return 64;
}
