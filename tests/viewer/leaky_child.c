/* The program `leakscope run` traces in the end-to-end tests. Known figures:
 * leak_hundreds() leaks 10 x 100 B; churn() allocates 5 x 64 B and frees them.
 *   leaky_child exit3      leaks, then exit(3)
 *   leaky_child exit0      leaks, then returns 0 from main
 *   leaky_child sigkill    leaks, waits until the shim has sent the events,
 *                          then kills itself with SIGKILL
 *   leaky_child fork       a forked child leaks and exits 0; the parent waits
 *                          for it, then exits 0 itself
 *   leaky_child wait-term  leaks, waits for the shim to send the events,
 *                          prints "ready", then waits for a signal
 *   leaky_child check-fds  exit 1 if it inherited the collector's listening
 *                          socket or an epoll/event fd, else 0
 *   leaky_child burst      leaks, then 200,000 malloc/free pairs of 32 B
 *                          (burst()): more than a tiny ring holds between
 *                          two drains, so a lossy run drops events */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
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

__attribute__((noinline)) void burst(void) {
  for (int i = 0; i < 200000; ++i) {
    void* volatile p = malloc(32);
    free(p);
  }
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

/* Whether a socket of ours is connected to the collector ($LEAKSCOPE_SOCKET). */
static int ConnectedToCollector(void) {
  const char* path = getenv("LEAKSCOPE_SOCKET");
  for (int fd = 3; path != NULL && fd < 1024; ++fd) {
    struct sockaddr_un peer;
    socklen_t len = sizeof peer;
    if (getpeername(fd, (struct sockaddr*)&peer, &len) == 0 && peer.sun_family == AF_UNIX &&
        strcmp(peer.sun_path, path) == 0) {
      return 1;
    }
  }
  return 0;
}

/* How many times the other thread (the shim's drain thread; this program
 * starts none) went to sleep, or -1. Read with open/read: polling must not
 * allocate, or the shim would record it. */
static long DrainThreadSleeps(void) {
  char path[64], buf[2048];
  DIR* tasks = opendir("/proc/self/task");
  long sleeps = -1;
  struct dirent* entry;
  while (tasks != NULL && (entry = readdir(tasks)) != NULL) {
    const int tid = atoi(entry->d_name);
    if (tid <= 0 || tid == getpid()) continue;
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
    const int fd = open(path, O_RDONLY | O_CLOEXEC);
    const ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
    if (fd >= 0) close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    const char* field = strstr(buf, "voluntary_ctxt_switches:");
    if (field != NULL) sleeps = atol(field + strlen("voluntary_ctxt_switches:"));
  }
  if (tasks != NULL) closedir(tasks);
  return sleeps;
}

/* The shim connects and drains from its own thread every few milliseconds:
 * a process killed before that has no stream, or a stream without its last
 * events (that is what SIGKILL means). For exact figures, wait until the
 * stream is open and the drain thread has slept twice since our allocations:
 * the pass between those two sleeps started after them and sent them. */
static void WaitForDrainedEvents(void) {
  const long before = DrainThreadSleeps();
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  do {
    if (ConnectedToCollector() && DrainThreadSleeps() >= before + 2) return;
    sched_yield();
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (now.tv_sec - start.tv_sec < 10);
  fprintf(stderr, "leaky_child: the shim did not drain within 10 s\n");
}

static int ForkLeakingChild(void) {
  const pid_t pid = fork();
  if (pid < 0) return 66;
  if (pid == 0) {
    leak_hundreds();
    exit(0);
  }
  int status = 0;
  return waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 67;
}

int main(int argc, char** argv) {
  if (argc != 2) return 64;
  if (strcmp(argv[1], "check-fds") == 0) return InheritedCollectorFds();
  if (strcmp(argv[1], "fork") == 0) return ForkLeakingChild();
  leak_hundreds();
  churn();
  if (strcmp(argv[1], "sigkill") == 0) {
    WaitForDrainedEvents();
    raise(SIGKILL);
  }
  if (strcmp(argv[1], "exit3") == 0) exit(3);
  if (strcmp(argv[1], "exit0") == 0) return 0;
  if (strcmp(argv[1], "burst") == 0) {
    burst();
    return 0;
  }
  if (strcmp(argv[1], "wait-term") == 0) {
    WaitForDrainedEvents();
    if (write(STDOUT_FILENO, "ready\n", 6) != 6) return 65;
    for (;;) pause();
  }
  return 64;
}
