// Programs the shim must leave unharmed (tests/preload/unharmed_test.cc).
// Every mode leaks 5 x 40 B from leak_five() first, so each report has one
// known site.
//   getattr_thread    a new thread's first allocation happens inside
//                     pthread_getattr_np (glibc holds the thread's lock there)
//   key_destructors   threads whose pthread key destructor frees their block,
//                     after the start routine ended
//   keys LIB          dlopens LIB, then creates pthread keys until refused and
//                     registers atexit handlers until one allocates; prints
//                     how many it got of each and what the dlopen allocated
//   deepbind LIB      a library loaded RTLD_DEEPBIND frees the program's
//                     string and keeps its own allocations
//   runpath LOADER    dlopens LOADER, which dlopens its sibling library by
//                     name through its own RUNPATH
//   relative_dlopen LIB
//                     dlopens LIB by a relative path and keeps 4 x 50 B from
//                     it; its realpath() says if anyone else calls it
//   crash_loader_held SIGSEGV while another thread holds the loader's lock
//                     for good (inside its dl_iterate_phdr callback)
//   exit_loader_held  _exit(7) in the same situation
//   fork_loader_held  fork() in the same situation; the child allocates at
//                     new call sites and exits 0 ("child ok")
//   fork_drop_privileges  fork(); the program's own child handler drops to
//                     uid/gid 65534 at once (as nginx's workers do, a little
//                     later); the child allocates and exits 0 (needs root)
//   mmap_signals      a thread sends the main thread 2000 SIGUSR1, whose
//                     handler maps and unmaps a page, while the main thread
//                     mallocs, frees, maps and unmaps; then map_kept() keeps
//                     3 pages: the only live mapping
//   mmap_fork         map_kept() keeps 3 pages, then a forked child unmaps
//                     the first, maps one of its own at child_map() and exits
#define _GNU_SOURCE
#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <link.h>
#include <malloc.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static void* volatile g_keep[64];
static int g_kept;
static void Keep(void* p) {
  g_keep[g_kept++ % 64] = p;
}

NOINLINE void leak_five(void) {
  for (int i = 0; i < 5; ++i) Keep(malloc(40));
}

// --- getattr_thread -----------------------------------------------------------
NOINLINE void attr_thread_leak(void) {
  for (int i = 0; i < 3; ++i) Keep(malloc(77));
}
static void* AttrThread(void* unused) {
  (void)unused;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return NULL;  // reallocs under its lock
  pthread_attr_destroy(&attr);
  attr_thread_leak();
  return NULL;
}
static int GetattrThread(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, AttrThread, NULL) != 0) return 1;
  pthread_join(t, NULL);
  puts("joined");
  return 0;
}

// --- key_destructors -------------------------------------------------------------
#define KEY_THREADS 200
static pthread_key_t g_key;
NOINLINE void* key_value(void) {
  return malloc(64);
}
static void FreeValue(void* p) {
  free(p);
}
static void* KeyThread(void* unused) {
  (void)unused;
  pthread_setspecific(g_key, key_value());
  return NULL;
}
static int KeyDestructors(void) {
  if (pthread_key_create(&g_key, FreeValue) != 0) return 1;
  for (int i = 0; i < KEY_THREADS; i += 8) {
    pthread_t t[8];
    for (int j = 0; j < 8; ++j)
      if (pthread_create(&t[j], NULL, KeyThread, NULL) != 0) return 1;
    for (int j = 0; j < 8; ++j) pthread_join(t[j], NULL);
  }
  printf("threads=%d\n", KEY_THREADS);
  return 0;
}

// --- keys -------------------------------------------------------------------------
static void Nothing(void) {}
static int Keys(const char* lib) {
  struct mallinfo2 before = mallinfo2();
  void* h = dlopen(lib, RTLD_NOW);
  struct mallinfo2 after = mallinfo2();
  if (!h) {
    fprintf(stderr, "dlopen %s: %s\n", lib, dlerror());
    return 1;
  }
  int keys = 0;
  pthread_key_t k;
  while (pthread_key_create(&k, NULL) == 0) ++keys;
  // glibc keeps the first 32 atexit handlers in a static table.
  int atexits = 0;
  for (; atexits < 64; ++atexits) {
    const size_t used = mallinfo2().uordblks;
    if (atexit(Nothing) != 0) return 1;
    if (mallinfo2().uordblks != used) break;
  }
  printf("keys=%d atexit_without_allocating=%d dlopen_bytes=%zu\n", keys, atexits,
         after.uordblks - before.uordblks);
  return 0;
}

// --- deepbind ---------------------------------------------------------------------
static int Deepbind(const char* lib) {
  void* h = dlopen(lib, RTLD_NOW | RTLD_DEEPBIND);
  if (!h) {
    fprintf(stderr, "dlopen %s: %s\n", lib, dlerror());
    return 1;
  }
  void (*take)(char*) = (void (*)(char*))dlsym(h, "deep_take_and_free");
  void (*keep)(void) = (void (*)(void))dlsym(h, "deep_keep");
  if (!take || !keep) return 1;
  // 35 bytes with the NUL: freed inside the library.
  take(strdup("a string the library frees, 34 chr"));
  keep();
  puts("done");
  return 0;
}

// --- runpath ---------------------------------------------------------------------
static int Runpath(const char* loader) {
  void* h = dlopen(loader, RTLD_NOW);
  int (*load)(void) = h ? (int (*)(void))dlsym(h, "load_sibling") : NULL;
  if (!load) return 1;
  printf("sibling=%d\n", load());
  return 0;
}

// --- relative_dlopen -------------------------------------------------------------
// The shim names a library loaded by a relative path by its absolute path,
// inside dl_iterate_phdr, with the loader's lock held. It used to call
// realpath() there: this program's, which comes first in the symbol search
// order. A realpath that calls dlsym (as interposers do) then waited for the
// loader's other lock while a thread inside dlopen held that one and waited
// for ours. This realpath says when it is called by anyone but the program.
static __thread int t_own_call;

char* realpath(const char* path, char* resolved) {
  static const char kForeign[] = "realpath called from inside the loader's lock\n";
  if (!t_own_call && write(1, kForeign, sizeof kForeign - 1) < 0) abort();
  char* (*real)(const char*, char*) = (char* (*)(const char*, char*))dlsym(RTLD_NEXT, "realpath");
  return real(path, resolved);
}

// Loads LIB as "./libname.so" from its directory and calls its deep_keep().
static int RelativeDlopen(const char* lib) {
  char dir[PATH_MAX], name[PATH_MAX + 2], resolved[PATH_MAX];
  snprintf(dir, sizeof dir, "%s", lib);
  snprintf(name, sizeof name, "./%s", basename((char*)lib));
  if (chdir(dirname(dir)) != 0) return 1;
  t_own_call = 1;
  if (!realpath(name, resolved)) return 1;  // the program's own call: silent
  t_own_call = 0;
  void* h = dlopen(name, RTLD_NOW);
  void (*keep)(void) = h ? (void (*)(void))dlsym(h, "deep_keep") : NULL;
  if (!keep) return 1;
  keep();
  return 0;
}

// --- loader_held --------------------------------------------------------------
// One thread stays inside its own dl_iterate_phdr callback for good, holding
// the loader's lock, while another crashes or calls _exit. The shim's module
// map refresh waits for that lock: an exit path that refreshed, or waited for
// a drain pass that did, never finished (or gave up without its goodbye).
static sem_t g_inside;

static int HoldLoader(struct dl_phdr_info* info, size_t size, void* data) {
  (void)info, (void)size, (void)data;
  sem_post(&g_inside);
  for (;;) pause();
  return 0;
}

static void* HoldLoaderThread(void* arg) {
  (void)arg;
  dl_iterate_phdr(HoldLoader, NULL);
  return NULL;
}

// --- fork_loader_held ---------------------------------------------------------
// A fork while another thread is inside dl_iterate_phdr: the child inherits
// the loader's lock held by a thread it does not have. Bare, the child never
// takes that lock (C++ unwinding finds its tables with _dl_find_object). The
// shim's unwinder and module map must not take it either, or the child hangs.
static sem_t g_release;

static int HoldLoaderUntilReleased(struct dl_phdr_info* info, size_t size, void* data) {
  (void)info, (void)size, (void)data;
  sem_post(&g_inside);
  while (sem_wait(&g_release) != 0) {
  }
  return 1;
}

static void* HoldLoaderUntilReleasedThread(void* arg) {
  (void)arg;
  dl_iterate_phdr(HoldLoaderUntilReleased, NULL);
  return NULL;
}

// Allocates `depth` frames down: each depth is a call chain of its own, so
// every call is a stack the shim has not seen (a walk, not its cache).
NOINLINE void nested_alloc(int depth, size_t size) {
  if (depth > 0) {
    nested_alloc(depth - 1, size);
    __asm__ volatile("" ::: "memory");  // keeps the call from becoming a jump
    return;
  }
  Keep(malloc(size));
}

NOINLINE void child_leak(void) {
  for (int d = 0; d < 7; ++d) nested_alloc(d, 33);
}

// Forks a child that runs child_leak(), prints "child ok" and exits 0; its
// wait status, or -1.
static int ForkLeakingChild(void) {
  fflush(stdout);
  const pid_t child = fork();
  if (child < 0) return -1;
  if (child == 0) {
    child_leak();
    printf("child ok\n");
    exit(0);
  }
  int status = 0;
  return waitpid(child, &status, 0) == child ? status : -1;
}

static int PrintChildStatus(int status) {
  if (status < 0) return 1;
  printf("child status %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  return 0;
}

static int ForkWhileLoaderHeld(void) {
  // Past the shim's first walks of a thread (which find unwind tables without
  // the loader's lock): 40 new call chains in the parent first.
  for (int d = 0; d < 40; ++d) {
    nested_alloc(d, 16);
    free(g_keep[(g_kept - 1) % 64]);
    g_keep[(g_kept - 1) % 64] = NULL;
  }
  pthread_t t;
  if (sem_init(&g_inside, 0, 0) != 0 || sem_init(&g_release, 0, 0) != 0 ||
      pthread_create(&t, NULL, HoldLoaderUntilReleasedThread, NULL) != 0)
    return 1;
  while (sem_wait(&g_inside) != 0) {
  }
  const int status = ForkLeakingChild();
  sem_post(&g_release);
  pthread_join(t, NULL);
  return PrintChildStatus(status);
}

// --- fork_drop_privileges -----------------------------------------------------
static void DropPrivileges(void) {
  if (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0) _exit(3);
}

static int ForkThenDropPrivileges(void) {
  if (pthread_atfork(NULL, NULL, DropPrivileges) != 0) return 1;
  return PrintChildStatus(ForkLeakingChild());
}

static int WhileLoaderHeld(int crash) {
  pthread_t t;
  if (sem_init(&g_inside, 0, 0) != 0 || pthread_create(&t, NULL, HoldLoaderThread, NULL) != 0)
    return 1;
  while (sem_wait(&g_inside) != 0) {
  }
  if (crash) *(volatile int*)0 = 1;  // SIGSEGV, with the loader held by the other thread
  _exit(7);
}

// --- mmap_signals, mmap_fork ---------------------------------------------------
static void* MapPages(int pages) {
  void* p =
      mmap(NULL, (size_t)pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) abort();
  return p;
}
NOINLINE void* map_kept(void) {
  return MapPages(3);
}
NOINLINE void* child_map(void) {
  return MapPages(1);
}

static atomic_int g_signals_handled, g_sender_done;
static void MapInHandler(int sig) {
  (void)sig;
  void* p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED) munmap(p, 4096);
  atomic_fetch_add(&g_signals_handled, 1);
}
static void* SendSignals(void* main_thread) {
  for (int i = 0; i < 2000; ++i) {
    const int before = atomic_load(&g_signals_handled);
    pthread_kill(*(pthread_t*)main_thread, SIGUSR1);
    while (atomic_load(&g_signals_handled) == before) sched_yield();  // one at a time
  }
  atomic_store(&g_sender_done, 1);
  return NULL;
}
static int MmapSignals(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = MapInHandler;
  sa.sa_flags = SA_RESTART;
  if (sigaction(SIGUSR1, &sa, NULL) != 0) return 1;
  pthread_t self = pthread_self(), sender;
  if (pthread_create(&sender, NULL, SendSignals, &self) != 0) return 1;
  while (!atomic_load(&g_sender_done)) {
    free(malloc(64));
    munmap(MapPages(1), 4096);
  }
  pthread_join(sender, NULL);
  Keep(map_kept());
  printf("signals=%d\n", atomic_load(&g_signals_handled));
  return 0;
}

static int MmapFork(void) {
  char* kept = map_kept();
  Keep(kept);
  fflush(stdout);
  const pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    munmap(kept, 4096);
    Keep(child_map());
    _exit(0);
  }
  int status = 0;
  if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return 1;
  printf("child ok\n");
  return 0;
}

int main(int argc, char** argv) {
  leak_five();
  if (argc < 2) return 2;
  const char* mode = argv[1];
  if (!strcmp(mode, "getattr_thread")) return GetattrThread();
  if (!strcmp(mode, "crash_loader_held")) return WhileLoaderHeld(1);
  if (!strcmp(mode, "exit_loader_held")) return WhileLoaderHeld(0);
  if (!strcmp(mode, "fork_loader_held")) return ForkWhileLoaderHeld();
  if (!strcmp(mode, "fork_drop_privileges")) return ForkThenDropPrivileges();
  if (!strcmp(mode, "key_destructors")) return KeyDestructors();
  if (!strcmp(mode, "mmap_signals")) return MmapSignals();
  if (!strcmp(mode, "mmap_fork")) return MmapFork();
  if (argc < 3) return 2;
  if (!strcmp(mode, "keys")) return Keys(argv[2]);
  if (!strcmp(mode, "deepbind")) return Deepbind(argv[2]);
  if (!strcmp(mode, "runpath")) return Runpath(argv[2]);
  if (!strcmp(mode, "relative_dlopen")) return RelativeDlopen(argv[2]);
  return 2;
}
