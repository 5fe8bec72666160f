// The fork child's probe of the loader's lock (loader_probe.h).
#include "loader_probe.h"

#include <link.h>
#include <pthread.h>
#include <signal.h>

#include "reachability_wait.h"
#include "shim.h"

namespace leakscope::preload {
namespace {

std::atomic<bool> g_probe_needed{false};  // a fork child
std::atomic<bool> g_probe_started{false};
std::atomic<bool> g_probe_alive{false};

int StopAtFirstObject(dl_phdr_info*, size_t, void*) {
  return 1;
}

void* ProbeMain(void*) {
  t_thread.busy = true;  // the shim's own thread: nothing here is the program's
  NameDrainThread();     // and a reachability scan leaves it out
  dl_iterate_phdr(StopAtFirstObject, nullptr);  // returns only once the lock is free
  g_loader_suspect.store(false, std::memory_order_release);
  g_probe_alive.store(false, std::memory_order_release);
  return nullptr;
}

}  // namespace

void ForgetLoaderProbeAfterFork() {
  g_loader_suspect.store(true, std::memory_order_relaxed);
  g_probe_needed.store(true, std::memory_order_relaxed);
  g_probe_started.store(false, std::memory_order_relaxed);
  g_probe_alive.store(false, std::memory_order_relaxed);
}

void StartLoaderProbe() {
  if (!g_probe_needed.load(std::memory_order_acquire)) return;
  if (g_probe_started.exchange(true, std::memory_order_acq_rel)) return;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);  // dl_iterate_phdr and a one-line callback
  sigset_t all, old;                            // the program's signals go to its own threads
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  g_probe_alive.store(true, std::memory_order_release);
  pthread_t tid;
  if (pthread_create(&tid, &attr, ProbeMain, nullptr) != 0) g_probe_alive.store(false);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  pthread_attr_destroy(&attr);
}

bool ProbeThreadAlive() {
  return g_probe_alive.load(std::memory_order_acquire);
}

}  // namespace leakscope::preload
