#include "hooks.h"

#include <dlfcn.h>
#include <unistd.h>

#include "shim.h"

namespace leakscope::preload {

Hooks g_hooks;
std::atomic<bool> g_hooks_resolved{false};

namespace {
template <typename F>
void Next(F*& slot, const char* name) {
  slot = reinterpret_cast<F*>(dlsym(RTLD_NEXT, name));
}
}  // namespace

void ResolveHooks() {
  if (g_hooks_resolved.load(std::memory_order_acquire)) return;
  Hooks h;
  Next(h.libc_start_main, "__libc_start_main");
  Next(h.exit, "exit");
  Next(h.exit_now, "_exit");
  Next(h.quick_exit, "quick_exit");
  Next(h.execve, "execve");
  Next(h.execv, "execv");
  Next(h.execvp, "execvp");
  Next(h.execvpe, "execvpe");
  Next(h.dlopen, "dlopen");
  Next(h.dlclose, "dlclose");
  Next(h.pthread_create, "pthread_create");
  Next(h.pthread_key_create, "pthread_key_create");
  Next(h.pthread_setspecific, "pthread_setspecific");
  Next(h.sigaction, "sigaction");
  Next(h.signal, "signal");
  Next(h.sysv_signal, "__sysv_signal");
  Next(h.prctl, "prctl");
  Next(h.syscall, "syscall");
  Next(h.pipe2, "pipe2");
  Next(h.mmap, "mmap");
  Next(h.munmap, "munmap");
  Next(h.mremap, "mremap");
  const long page = sysconf(_SC_PAGESIZE);
  h.page_size = page > 0 ? static_cast<size_t>(page) : 4096;
  g_hooks = h;
  g_hooks_resolved.store(true, std::memory_order_release);
}

const Hooks& RealSlow() {
  // Initializing resolves the hooks; from inside the initialization itself
  // (EnsureInitialized says false), resolve them here.
  if (!EnsureInitialized() || !g_hooks_resolved.load(std::memory_order_acquire)) ResolveHooks();
  return g_hooks;
}

}  // namespace leakscope::preload
