// Children that exec: posix_spawn, vfork + execve, and a vfork child whose
// exec fails and leaves with _exit. Under the shim, each exec'd child is a
// traced process of its own, and the parent goes on recording after each
// (a vfork child shares the parent's memory, shim state included).
//   spawn_prog           the parent
//   spawn_prog child     leaks 10 x 128 B at child_leak, exits 0
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static void* volatile g_keep[200];

__attribute__((noinline)) void before_children(void) {
  for (int i = 0; i < 100; ++i) g_keep[i] = malloc(64);
}

__attribute__((noinline)) void after_children(void) {
  for (int i = 0; i < 50; ++i) g_keep[100 + i] = malloc(32);
}

__attribute__((noinline)) void child_leak(void) {
  for (int i = 0; i < 10; ++i) g_keep[i] = malloc(128);
}

static int Wait(pid_t pid) {
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "child") == 0) {
    child_leak();
    return 0;
  }
  char* child_argv[] = {argv[0], (char*)"child", NULL};
  before_children();

  pid_t pid;
  if (posix_spawn(&pid, argv[0], NULL, NULL, child_argv, environ) != 0) return 10;
  if (Wait(pid) != 0) return 11;

  pid = vfork();
  if (pid == 0) {
    execve(argv[0], child_argv, environ);
    _exit(127);
  }
  if (Wait(pid) != 0) return 12;

  pid = vfork();
  if (pid == 0) {
    char* missing[] = {(char*)"/nonexistent/leakscope-test", NULL};
    execve(missing[0], missing, environ);
    _exit(3);  // the exec failed: must not end the parent's tracing
  }
  if (Wait(pid) != 3) return 13;

  after_children();
  printf("parent done\n");
  return 0;
}
