// Deaths by signal, for tests/preload/signal_death_test.cc. Every mode leaks
// 1000 x 100 B from leak_before_death() right before the process dies, well
// within one flush interval.
//   die SIG           the default action of SIG ends it: raise(), kill() of
//                     the whole process (SIGUSR1), a timer (SIGALRM), a write
//                     into a pipe nobody reads (SIGPIPE)
//   blocked SIG       SIG raised while blocked, then unblocked
//   other_thread SIG  SIG blocked in the main thread, sent to the process:
//                     another thread takes it
//   own_handler       its own SIGTERM handler runs, SIGHUP ignored, then
//                     SIG_DFL again and death by SIGTERM; prints what
//                     sigaction() and signal() said all along
//   sigkill           raise(SIGKILL)
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static void* volatile g_keep[1000];

NOINLINE void leak_before_death(void) {
  for (int i = 0; i < 1000; ++i) g_keep[i] = malloc(100);
}

static void Block(int sig, int how) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  pthread_sigmask(how, &set, NULL);
}

static void Die(int sig) {
  if (sig == SIGALRM) {
    struct itimerval t = {{0, 0}, {0, 1000}};
    setitimer(ITIMER_REAL, &t, NULL);
    for (;;) pause();
  }
  if (sig == SIGPIPE) {
    int fds[2];
    if (pipe(fds) != 0) exit(10);
    close(fds[0]);
    for (;;) (void)!write(fds[1], "x", 1);
  }
  if (sig == SIGUSR1) {
    kill(getpid(), sig);  // to the process, not this thread
    for (;;) pause();
  }
  raise(sig);
  exit(11);  // not reached
}

static void* TakeSignals(void* sig) {
  Block((int)(long)sig, SIG_UNBLOCK);
  for (;;) pause();
  return NULL;
}

static volatile sig_atomic_t g_handled;

static void OwnHandler(int sig) {
  g_handled = sig;
  static const char kLine[] = "own handler ran\n";
  (void)!write(1, kLine, sizeof kLine - 1);
}

static const char* Name(void (*h)(int)) {
  if (h == SIG_DFL) return "SIG_DFL";
  if (h == SIG_IGN) return "SIG_IGN";
  if (h == OwnHandler) return "own";
  return "another handler";
}

static void Query(const char* when, int sig) {
  struct sigaction q;
  memset(&q, 0xa5, sizeof q);
  if (sigaction(sig, NULL, &q) != 0) exit(12);
  printf("%s: %s handler=%s flags=%#x mask_has_usr2=%d\n", when, sigabbrev_np(sig),
         Name(q.sa_handler), (unsigned)q.sa_flags, sigismember(&q.sa_mask, SIGUSR2));
}

static int OwnHandlerThenDefault(void) {
  Query("at start", SIGTERM);
  struct sigaction own, old;
  memset(&own, 0, sizeof own);
  own.sa_handler = OwnHandler;
  own.sa_flags = SA_RESTART;
  sigemptyset(&own.sa_mask);
  sigaddset(&own.sa_mask, SIGUSR2);
  if (sigaction(SIGTERM, &own, &old) != 0) return 13;
  printf("sigaction returned the old handler=%s\n", Name(old.sa_handler));
  Query("installed", SIGTERM);
  raise(SIGTERM);
  printf("after raise: handled=%d\n", (int)g_handled);
  printf("signal(SIGHUP, SIG_IGN) returned %s\n", Name(signal(SIGHUP, SIG_IGN)));
  raise(SIGHUP);
  Query("ignored", SIGHUP);
  printf("signal(SIGTERM, SIG_DFL) returned %s\n", Name(signal(SIGTERM, SIG_DFL)));
  Query("default again", SIGTERM);
  fflush(stdout);
  leak_before_death();
  raise(SIGTERM);
  return 14;  // not reached
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  const char* mode = argv[1];
  const int sig = argc > 2 ? atoi(argv[2]) : 0;
  if (!strcmp(mode, "own_handler")) return OwnHandlerThenDefault();
  if (!strcmp(mode, "die")) {
    leak_before_death();
    Die(sig);
  }
  if (!strcmp(mode, "blocked")) {
    Block(sig, SIG_BLOCK);
    raise(sig);
    leak_before_death();
    Block(sig, SIG_UNBLOCK);
    return 15;  // not reached
  }
  if (!strcmp(mode, "other_thread")) {
    Block(sig, SIG_BLOCK);
    pthread_t t;
    if (pthread_create(&t, NULL, TakeSignals, (void*)(long)sig) != 0) return 16;
    leak_before_death();
    kill(getpid(), sig);
    for (;;) pause();
  }
  if (!strcmp(mode, "sigkill")) {
    leak_before_death();
    raise(SIGKILL);
  }
  return 2;
}
