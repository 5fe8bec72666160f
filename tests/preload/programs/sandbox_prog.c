// Programs that sandbox themselves with seccomp, for tests/preload/sandbox_test.cc.
// The filter kills the process on socket() and connect() and allows the rest.
//   sandbox_prog fork       filters this thread (prctl), then forks a child that
//                           leaks 2 x 16 B and exits; says how the child ended
//   sandbox_prog restart DIR  filters every thread (seccomp TSYNC), writes to the
//                           FIFO DIR/ready, reads the FIFO DIR/go (the collector is
//                           restarted meanwhile), then runs on for 1.5 s, allocating
//                           as a service does: long enough for a shim that
//                           reconnects (once a second) to try
// Both leak 5 x 40 B at leak_before (before the filter; leakscope_mark()
// then waits until the collector has it) and 3 x 24 B at leak_after, and
// print "done" last.
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "leakscope.h"

void* kept[10];  // not static: the compiler may not drop the mallocs

__attribute__((noinline)) void leak_before(void) {
  for (int i = 0; i < 5; ++i) kept[i] = malloc(40);
}

__attribute__((noinline)) void leak_after(void) {
  for (int i = 5; i < 8; ++i) kept[i] = malloc(24);
}

__attribute__((noinline)) void leak_child(void) {
  for (int i = 8; i < 10; ++i) kept[i] = malloc(16);
}

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#endif

static struct sock_filter kFilter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_socket, 2, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_connect, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
};
static struct sock_fprog kProgram = {sizeof kFilter / sizeof kFilter[0], kFilter};

static double Now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int Fork(void) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &kProgram) != 0)
    return 3;
  const pid_t child = fork();
  if (child == 0) {
    leak_child();
    exit(0);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child) return 4;
  if (WIFEXITED(status))
    printf("child exited %d\n", WEXITSTATUS(status));
  else
    printf("child killed by signal %d\n", WTERMSIG(status));
  return 0;
}

static int Restart(const char* dir) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
      syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &kProgram) != 0)
    return 3;
  char path[4096];
  snprintf(path, sizeof path, "%s/ready", dir);
  int fd = open(path, O_WRONLY);
  if (fd < 0 || write(fd, "r", 1) != 1) return 4;
  close(fd);
  snprintf(path, sizeof path, "%s/go", dir);
  fd = open(path, O_RDONLY);
  char c;
  if (fd < 0 || read(fd, &c, 1) != 1) return 5;
  close(fd);
  for (const double end = Now() + 1.5; Now() < end;) {
    void* volatile p = malloc(100);  // volatile: the pair may not be optimized away
    free(p);
    const struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  return 0;
}

int main(int argc, char** argv) {
  leak_before();
  leakscope_mark();
  int status = 2;
  if (argc == 2 && strcmp(argv[1], "fork") == 0) status = Fork();
  if (argc == 3 && strcmp(argv[1], "restart") == 0) status = Restart(argv[2]);
  if (status != 0) return status;
  leak_after();
  printf("done\n");
  return 0;
}
