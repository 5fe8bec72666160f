/* The command of tests/viewer/run_report_wait_test.cc: leaks 3 x 48 B from
 * leak_before_exit(), starts a process with a raw clone (no fork handlers run,
 * so it keeps the shim's socket open), prints "held", and exits 0. The holder
 * reads its stdin until end of file, then exits: the test decides when the
 * stream can end. It calls no libc function that the shim interposes. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

void* volatile kept[3];

__attribute__((noinline)) void leak_before_exit(void) {
  for (int i = 0; i < 3; ++i) kept[i] = malloc(48);
}

int main(void) {
  leak_before_exit();
  const long holder = syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0);
  if (holder < 0) return 1;
  if (holder == 0) {
    /* Not the test's output pipe: a run that stops waiting must let the
     * test read end of file, not hang it. */
    syscall(SYS_close, 1);
    syscall(SYS_close, 2);
    char c;
    while (syscall(SYS_read, 0, &c, 1) > 0) {
    }
    syscall(SYS_exit_group, 0);
  }
  printf("held\n");
  return 0;
}
