#include "real_allocator.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdint>
#include <cstring>

namespace leakscope::preload {
namespace {

RealAllocator g_system;
std::atomic<int> g_state{0};  // 0 unresolved, 1 resolving, 2 resolved

std::atomic<size_t> g_arena_used{0};

template <typename F>
void Resolve(F*& slot, const char* name) {
  slot = reinterpret_cast<F*>(dlsym(RTLD_NEXT, name));
}

}  // namespace

Mimalloc g_mi;

// 64 KiB is far more than dlsym ever asks for (glibc: one dlerror buffer).
alignas(64) char g_bootstrap_arena[64 << 10];

void* BootstrapAlloc(size_t size, size_t align) {
  if (align < 16) align = 16;
  // A size word sits just before each block so realloc can copy from it.
  size_t old = g_arena_used.load(std::memory_order_relaxed);
  for (;;) {
    size_t start = (old + sizeof(size_t) + align - 1) & ~(align - 1);
    size_t end = start + size;
    if (end > sizeof g_bootstrap_arena) return nullptr;
    if (g_arena_used.compare_exchange_weak(old, end, std::memory_order_relaxed)) {
      std::memcpy(g_bootstrap_arena + start - sizeof(size_t), &size, sizeof size);
      return g_bootstrap_arena + start;
    }
  }
}

size_t BootstrapUsableSize(const void* p) {
  size_t size;
  std::memcpy(&size, static_cast<const char*>(p) - sizeof size, sizeof size);
  return size;
}

bool SystemResolved() {
  return g_state.load(std::memory_order_acquire) == 2;
}

// Set while this thread runs dlsym: its nested malloc calls must not wait
// for the resolution they are part of.
__thread bool t_resolving __attribute__((tls_model("initial-exec")));

const RealAllocator* System() {
  if (SystemResolved()) return &g_system;
  if (t_resolving) return nullptr;
  int expected = 0;
  if (g_state.compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
    t_resolving = true;
    RealAllocator r;
    Resolve(r.malloc, "malloc");
    Resolve(r.free, "free");
    Resolve(r.calloc, "calloc");
    Resolve(r.realloc, "realloc");
    Resolve(r.posix_memalign, "posix_memalign");
    Resolve(r.aligned_alloc, "aligned_alloc");
    Resolve(r.memalign, "memalign");
    Resolve(r.valloc, "valloc");
    Resolve(r.pvalloc, "pvalloc");
    Resolve(r.malloc_usable_size, "malloc_usable_size");
    g_system = r;
    t_resolving = false;
    g_state.store(2, std::memory_order_release);
  } else {
    // Another thread is resolving; it takes microseconds.
    while (!SystemResolved()) {
    }
  }
  return &g_system;
}

}  // namespace leakscope::preload
