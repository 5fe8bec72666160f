// The allocator behind the shim: the next definition of malloc & co. in the
// symbol search order (glibc, or whatever the program links), or mimalloc when
// LEAKSCOPE_ALLOCATOR=mimalloc.
//
// Bootstrap: dlsym() itself may call calloc/malloc before we know where the
// real ones are. While resolving, those calls are served from a static arena;
// freeing arena memory is a no-op (it is not heap memory, so nothing leaks).
#pragma once

#include <cstddef>

namespace leakscope::preload {

struct RealAllocator {
  void* (*malloc)(size_t);
  void (*free)(void*);
  void* (*calloc)(size_t, size_t);
  void* (*realloc)(void*, size_t);
  int (*posix_memalign)(void**, size_t, size_t);
  void* (*aligned_alloc)(size_t, size_t);
  void* (*memalign)(size_t, size_t);
  void* (*valloc)(size_t);
  void* (*pvalloc)(size_t);
  size_t (*malloc_usable_size)(void*);
};

// The system functions, resolved on first use (thread-safe, idempotent).
// Null when called from inside that resolution (dlsym calling malloc): the
// caller then uses the bootstrap arena.
const RealAllocator* System();
// True once System() has resolved; false while dlsym is running.
bool SystemResolved();

// Static bootstrap arena, for calls made while System() resolves.
void* BootstrapAlloc(size_t size, size_t align);
// Inline: it is on every free.
extern char g_bootstrap_arena[64 << 10];
inline bool InBootstrapArena(const void* p) {
  const char* c = static_cast<const char*>(p);
  return c >= g_bootstrap_arena && c < g_bootstrap_arena + sizeof g_bootstrap_arena;
}
size_t BootstrapUsableSize(const void* p);

// mimalloc, loaded RTLD_LOCAL by LoadMimalloc() (from the shim's constructor,
// not from inside malloc). Null members until then or if it is not installed.
struct Mimalloc {
  void* (*malloc)(size_t);
  void (*free)(void*);
  void* (*calloc)(size_t, size_t);
  void* (*realloc)(void*, size_t);
  void* (*malloc_aligned)(size_t, size_t);
  size_t (*usable_size)(const void*);
  bool (*is_in_heap_region)(const void*);
  void (*thread_done)();
};
bool LoadMimalloc();
extern Mimalloc g_mi;
// Set on the thread running LoadMimalloc's dlopen: mimalloc's initialization
// asks for a pthread key then, and gets an emulated one (hidden_registrations.cc).
extern __thread bool t_loading_mimalloc __attribute__((tls_model("initial-exec")));
// The thread is ending: runs the destructors of the emulated keys of the
// shim's own libraries with this thread's values (hidden_registrations.cc).
void RunPrivateKeyDestructors();
inline const Mimalloc& Mi() {  // inline: MixedFree calls it on every free
  return g_mi;
}

}  // namespace leakscope::preload
