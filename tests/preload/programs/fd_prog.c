// Programs that rearrange their descriptors, for tests/preload/fd_ownership_test.cc.
// Each leaks 5 x 40 B at leak_before, then writes 40 lines to a log file at
// a descriptor number the shim's socket had, then leaks 3 x 24 B at
// leak_after. The log goes through stdio, so it is written at exit, after
// the shim's last pass: a shim that closed the number loses every line.
// leakscope_mark() after leak_before waits until the collector has every
// event so far: the stream the program then cuts holds leak_before, always.
//   fd_prog closeall LOG  like a daemon: closes every descriptor 3..1024, then opens LOG
//   fd_prog dup2 LOG      opens LOG and dup2s it over the shim's socket (100 if there is none)
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "leakscope.h"

void* kept[8];  // not static: the compiler may not drop the mallocs

__attribute__((noinline)) void leak_before(void) {
  for (int i = 0; i < 5; ++i) kept[i] = malloc(40);
}

__attribute__((noinline)) void leak_after(void) {
  for (int i = 5; i < 8; ++i) kept[i] = malloc(24);
}

// A socket this program did not open: the shim's.
static int ShimSocket(void) {
  DIR* dir = opendir("/proc/self/fd");
  int found = -1;
  for (struct dirent* e; dir && (e = readdir(dir));) {
    const int fd = atoi(e->d_name);
    struct stat st;
    if (fd > 2 && fd != dirfd(dir) && fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode)) found = fd;
  }
  if (dir) closedir(dir);
  return found;
}

static void WriteLog(FILE* log) {
  for (int i = 1; i <= 40; ++i) {
    char* line = malloc(64);
    snprintf(line, 64, "line %d of the program's own log\n", i);
    fputs(line, log);
    free(line);
  }
}

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  leak_before();
  leakscope_mark();
  FILE* log = NULL;
  if (strcmp(argv[1], "closeall") == 0) {
    for (int fd = 3; fd <= 1024; ++fd) close(fd);
    log = fopen(argv[2], "w");
  } else if (strcmp(argv[1], "dup2") == 0) {
    int target = ShimSocket();
    if (target < 0) target = 100;
    const int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || dup2(fd, target) != target) return 3;
    close(fd);
    log = fdopen(target, "w");
  } else {
    return 2;
  }
  if (!log) return 3;
  WriteLog(log);
  leak_after();
  printf("wrote 40 lines\n");
  return 0;
}
