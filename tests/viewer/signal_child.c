/* The command of tests/viewer/run_signals_test.cc: handles SIGUSR1 and SIGHUP
 * itself. Prints "ready" once its handlers are in, then "got USR1" / "got HUP"
 * as each arrives, leaking 64 B from leak_per_signal() for each; exits 7 when
 * it has had both. It dies with `leakscope run` (PR_SET_PDEATHSIG), so a run
 * that is killed ends the test instead of leaving it waiting. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

static volatile sig_atomic_t g_usr1, g_hup;
void* volatile kept[2];

__attribute__((noinline)) void leak_per_signal(int i) {
  kept[i] = malloc(64);
}

static void OnSignal(int sig) {
  if (sig == SIGUSR1) g_usr1 = 1;
  if (sig == SIGHUP) g_hup = 1;
}

int main(void) {
  const pid_t parent = getppid();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) return 1;
  sigset_t both, none;
  sigemptyset(&both);
  sigaddset(&both, SIGUSR1);
  sigaddset(&both, SIGHUP);
  sigprocmask(SIG_BLOCK, &both, &none);
  sigdelset(&none, SIGUSR1);
  sigdelset(&none, SIGHUP);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  printf("ready\n");
  fflush(stdout);
  int said_usr1 = 0, said_hup = 0;
  while (!said_usr1 || !said_hup) {
    sigsuspend(&none);
    if (g_usr1 && !said_usr1) {
      said_usr1 = 1;
      leak_per_signal(0);
      printf("got USR1\n");
    }
    if (g_hup && !said_hup) {
      said_hup = 1;
      leak_per_signal(1);
      printf("got HUP\n");
    }
    fflush(stdout);
  }
  return 7;
}
