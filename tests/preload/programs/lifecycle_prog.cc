// One program, many ways to live and die under the shim. Every mode leaks
// 10 x 100 B from leak_ten() first, so each report has one known site.
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <new>
#include <stdexcept>
#include <vector>

#define NOINLINE __attribute__((noinline))

static void* volatile g_keep[1 << 16];
static std::atomic<int> g_kept{0};
static void Keep(void* p) {
  g_keep[g_kept++ & 0xffff] = p;
}

extern "C" NOINLINE void leak_ten() {
  for (int i = 0; i < 10; ++i) Keep(malloc(100));
}

// --- start-up and shutdown --------------------------------------------------
extern "C" NOINLINE void leak_in_constructor() {
  for (int i = 0; i < 3; ++i) Keep(malloc(111));
}
extern "C" NOINLINE void leak_in_destructor() {
  for (int i = 0; i < 2; ++i) Keep(malloc(222));
}
extern "C" NOINLINE void leak_in_atexit() {
  Keep(malloc(333));
}
struct StaticObject {
  StaticObject() { leak_in_constructor(); }
  ~StaticObject() { leak_in_destructor(); }
} g_static_object;

// --- threads --------------------------------------------------------------------
extern "C" NOINLINE void thread_leak() {
  Keep(malloc(32));
}
static void* ShortThread(void*) {
  free(malloc(64));
  thread_leak();
  return nullptr;
}
static long RssKiB() {
  FILE* f = fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (f && fscanf(f, "%ld %ld", &size, &resident) != 2) resident = 0;
  if (f) fclose(f);
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}
static int ManyThreads(int n) {
  long before = 0;
  for (int i = 0; i < n; i += 8) {
    pthread_t t[8];
    for (int j = 0; j < 8; ++j) pthread_create(&t[j], nullptr, ShortThread, nullptr);
    for (int j = 0; j < 8; ++j) pthread_join(t[j], nullptr);
    if (i == 64) before = RssKiB();  // after the first rings exist
  }
  printf("rss_growth_kib=%ld\n", RssKiB() - before);
  return 0;
}

// --- many threads allocating at once ----------------------------------------------
// N threads, all alive together (a barrier), each PAIRS malloc/free pairs from
// thread_churn; once every thread has, each keeps one 24 B block from
// thread_keep, likely one that another thread freed. The drain thread, the
// only other thread when they start, runs at idle priority: starved of CPU,
// as among thousands of busy threads, it runs a pass only once they all
// wait (yielding, never blocking) and finds every ring with records.
static pthread_barrier_t g_all_started;
static long g_pairs;
static std::atomic<int> g_threads_churned{0}, g_threads_done{0};
static int g_threads;
static void YieldUntilAll(const std::atomic<int>& count) {
  while (count.load() < g_threads) sched_yield();
}
extern "C" NOINLINE void thread_churn(long pairs) {
  for (long i = 0; i < pairs; ++i) {
    void* volatile p = malloc(16 + size_t(i % 64) * 8);
    free(p);
  }
}
extern "C" NOINLINE void thread_keep() {
  Keep(malloc(24));
}
static void* AllocatingThread(void*) {
  pthread_barrier_wait(&g_all_started);
  thread_churn(g_pairs);
  g_threads_churned.fetch_add(1);
  YieldUntilAll(g_threads_churned);
  thread_keep();
  g_threads_done.fetch_add(1);
  YieldUntilAll(g_threads_done);
  return nullptr;
}
// Every thread of this process but the calling one to SCHED_IDLE; how many.
static int IdleOtherThreads() {
  int n = 0;
  DIR* dir = opendir("/proc/self/task");
  while (dirent* e = dir ? readdir(dir) : nullptr) {
    const int tid = atoi(e->d_name);
    if (tid <= 0 || tid == gettid()) continue;
    sched_param param = {};
    if (sched_setscheduler(tid, SCHED_IDLE, &param) == 0) ++n;
  }
  if (dir) closedir(dir);
  return n;
}
static int AllocatingThreads(int n, long pairs) {
  g_pairs = pairs;
  g_threads = n;
  printf("idle_threads=%d\n", IdleOtherThreads());
  pthread_barrier_init(&g_all_started, nullptr, unsigned(n));
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 256 * 1024);  // 2,000 default stacks would be 16 GiB
  std::vector<pthread_t> threads(static_cast<size_t>(n));
  for (pthread_t& t : threads) {
    if (pthread_create(&t, &attr, AllocatingThread, nullptr) != 0) {
      fprintf(stderr, "pthread_create failed\n");
      return 1;
    }
  }
  for (pthread_t t : threads) pthread_join(t, nullptr);
  pthread_attr_destroy(&attr);
  return 0;
}

// --- signals --------------------------------------------------------------------
// kSignals queued real-time signals (none merged, unlike SIGUSR1) interrupt
// the main thread while it allocates and frees flat out, the shim included.
// Each handler makes exactly one allocation, from handler_leak, and keeps it:
// recorded, or lost and counted if it interrupted a recording.
constexpr int kSignals = 2000;
static std::atomic<int> g_signals{0};
extern "C" NOINLINE void handler_leak() {
  Keep(malloc(48));
}
static void OnSignal(int) {
  handler_leak();
  g_signals.fetch_add(1, std::memory_order_relaxed);
}
static void* QueueSignals(void* sent) {
  sigset_t rt;
  sigemptyset(&rt);
  sigaddset(&rt, SIGRTMIN);
  pthread_sigmask(SIG_BLOCK, &rt, nullptr);  // for the main thread only
  const union sigval value = {0};
  int n = 0;
  while (n < kSignals) {
    if (sigqueue(getpid(), SIGRTMIN, value) == 0)
      ++n;
    else if (errno == EAGAIN)
      sched_yield();  // the queue is full (RLIMIT_SIGPENDING): let the main thread take some
    else
      break;
  }
  static_cast<std::atomic<int>*>(sent)->store(n);
  return nullptr;
}
static int SignalStorm() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGRTMIN, &sa, nullptr);
  std::atomic<int> sent{-1};
  pthread_t sender;
  pthread_create(&sender, nullptr, QueueSignals, &sent);
  // The shim is interrupted mid-record; each queued signal is delivered
  // here, the only thread that does not block it.
  while (sent.load() < 0 || g_signals.load() < sent.load()) free(malloc(200));
  pthread_join(sender, nullptr);
  printf("sent=%d delivered=%d\n", sent.load(), g_signals.load());
  return 0;
}

// --- fork -------------------------------------------------------------------------
extern "C" NOINLINE void parent_leak() {
  for (int i = 0; i < 5; ++i) Keep(malloc(200));
}
extern "C" NOINLINE void child_leak() {
  for (int i = 0; i < 7; ++i) Keep(malloc(300));
}
// A daemon: the parent forks and leaves at once; the child, in its own
// session, waits until it has been orphaned, then leaks and exits. Under
// `leakscope run` its report must be whole: run waits for it.
extern "C" NOINLINE void daemon_leak() {
  for (int i = 0; i < 3; ++i) Keep(malloc(100));
}
// Polls the file behind our own stderr until it holds `text`, for at most
// `seconds`: the test's side of a handshake with `leakscope run`.
static void WaitForStderrToSay(const char* text, int seconds) {
  for (int ms = 0; ms < seconds * 1000; ++ms) {
    FILE* err = fopen("/proc/self/fd/2", "r");
    if (!err) return;
    char buf[4096];
    const size_t n = fread(buf, 1, sizeof buf - 1, err);
    fclose(err);
    buf[n] = 0;
    if (strstr(buf, text)) return;
    timespec tick = {0, 1000 * 1000};
    nanosleep(&tick, nullptr);
  }
}

static int Daemonize() {
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid != 0) return pid < 0 ? 1 : 0;
  setsid();
  while (getppid() == parent) {  // orphaned once the parent is gone
    timespec ts = {0, 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  // A daemon outlives its launcher: the scenario. It lives on until
  // `leakscope run` has said it waits for it (its stderr is the test's file),
  // so that the outcome does not depend on how loaded the machine is.
  WaitForStderrToSay("still traced", 30);
  daemon_leak();
  exit(0);
}

static int ForkFromThreads() {
  std::atomic<bool> stop{false};
  pthread_t busy;
  pthread_create(
      &busy, nullptr,
      [](void* s) -> void* {
        while (!static_cast<std::atomic<bool>*>(s)->load()) free(malloc(50));
        return nullptr;
      },
      &stop);
  parent_leak();
  pid_t pid = fork();
  if (pid == 0) {
    child_leak();
    exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  stop = true;
  pthread_join(busy, nullptr);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

// --- fork: the child inherits the parent's live blocks ------------------------------
static void* g_inherited[1000];
extern "C" NOINLINE void inherited_site() {
  for (void*& p : g_inherited) p = malloc(100);
}
extern "C" NOINLINE void child_site() {
  for (int i = 0; i < 50; ++i) Keep(malloc(200));
}
static void* Churn(void* s) {
  while (!static_cast<std::atomic<bool>*>(s)->load()) free(malloc(50));
  return nullptr;
}
// 1000 x 100 B kept, two threads allocating while the main thread forks; the
// child frees 400 of the inherited blocks and makes 50 x 200 B of its own.
static int ForkInherit() {
  inherited_site();
  std::atomic<bool> stop{false};
  pthread_t churn[2];
  for (pthread_t& t : churn) pthread_create(&t, nullptr, Churn, &stop);
  pid_t pid = fork();
  if (pid == 0) {
    for (int i = 0; i < 400; ++i) free(g_inherited[i]);
    child_site();
    exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  stop = true;
  for (pthread_t t : churn) pthread_join(t, nullptr);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

// Two threads fork at once: each child gets its own marker.
static void* ForkAndWait(void*) {
  pid_t pid = fork();
  if (pid == 0) {
    child_site();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return reinterpret_cast<void*>(
      static_cast<intptr_t>(WIFEXITED(status) ? WEXITSTATUS(status) : 99));
}
static int ForkTwiceAtOnce() {
  pthread_t t[2];
  for (pthread_t& x : t) pthread_create(&x, nullptr, ForkAndWait, nullptr);
  intptr_t rc = 0;
  for (pthread_t x : t) {
    void* r = nullptr;
    pthread_join(x, &r);
    rc |= reinterpret_cast<intptr_t>(r);
  }
  return static_cast<int>(rc);
}

// --- modules ----------------------------------------------------------------------
static int PluginLeak(const char* path) {
  void* h = dlopen(path, RTLD_NOW);
  if (!h) {
    fprintf(stderr, "dlopen: %s\n", dlerror());
    return 98;
  }
  auto fn = reinterpret_cast<void (*)(void (*)(void*))>(dlsym(h, "plugin_leak"));
  fn(Keep);
  dlclose(h);
  return 0;
}

// --- a burst that overflows a small ring -------------------------------------------
extern "C" NOINLINE void burst() {
  for (int i = 0; i < 200000; ++i) {
    void* volatile p = malloc(32);
    free(p);
  }
}

// --- exit while another thread allocates flat out -------------------------------
// The drain thread is then busy pass after pass; exit() must still get its
// lock for the last pass and the goodbye.
std::atomic<long> g_busy_pairs{0};
extern "C" NOINLINE void* busy_allocator(void*) {
  for (;;) {
    void* volatile p = malloc(48);
    free(p);
    g_busy_pairs.fetch_add(1, std::memory_order_relaxed);
  }
}

static void ExitWhileBusy() {
  pthread_t t;
  pthread_create(&t, nullptr, busy_allocator, nullptr);
  while (g_busy_pairs.load(std::memory_order_relaxed) < 2000000) {
  }
  exit(6);
}

// --- memory limit -----------------------------------------------------------------
extern "C" NOINLINE void grow_until_bad_alloc() {
  for (;;) Keep(new char[1 << 20]);  // std::bad_alloc escapes: terminate, abort
}

int main(int argc, char** argv) {
  leak_ten();
  const char* mode = argc > 1 ? argv[1] : "return";
  if (!strcmp(mode, "return")) return 3;
  if (!strcmp(mode, "exit")) exit(4);
  if (!strcmp(mode, "exit_busy")) ExitWhileBusy();
  if (!strcmp(mode, "_exit")) _exit(5);
  if (!strcmp(mode, "abort")) abort();
  if (!strcmp(mode, "segv")) *static_cast<volatile int*>(nullptr) = 1;
  if (!strcmp(mode, "uncaught")) throw std::runtime_error("not caught");
  if (!strcmp(mode, "pthread_exit")) pthread_exit(nullptr);
  if (!strcmp(mode, "atexit")) {
    atexit(leak_in_atexit);
    return 0;
  }
  if (!strcmp(mode, "exec")) execl("/bin/true", "true", static_cast<char*>(nullptr));
  if (!strcmp(mode, "sigkill")) {
    timespec ts = {0, 300 * 1000 * 1000};  // several flush intervals: the scenario, not a sync
    nanosleep(&ts, nullptr);
    raise(SIGKILL);
  }
  if (!strcmp(mode, "threads")) return ManyThreads(argc > 2 ? atoi(argv[2]) : 2000);
  if (!strcmp(mode, "allocating_threads") && argc > 3)
    return AllocatingThreads(atoi(argv[2]), atol(argv[3]));
  if (!strcmp(mode, "signals")) return SignalStorm();
  if (!strcmp(mode, "fork")) return ForkFromThreads();
  if (!strcmp(mode, "daemonize")) return Daemonize();
  if (!strcmp(mode, "fork_inherit")) return ForkInherit();
  if (!strcmp(mode, "fork_twice_at_once")) return ForkTwiceAtOnce();
  if (!strcmp(mode, "plugin")) return PluginLeak(argv[2]);
  if (!strcmp(mode, "burst")) {
    burst();
    return 0;
  }
  if (!strcmp(mode, "memlimit")) {
    rlimit lim = {1ul << 30, 1ul << 30};  // 1 GiB of address space
    setrlimit(RLIMIT_AS, &lim);
    grow_until_bad_alloc();
  }
  if (!strcmp(mode, "wait_stdin")) {  // for collector fault tests: runs until stdin closes
    char buf[64];
    while (fgets(buf, sizeof buf, stdin)) {
      leak_ten();
      printf("ok\n");
      fflush(stdout);
    }
    return 0;
  }
  return 2;
}
