// The allocator behind the shim: the next definition of malloc & co. in the
// symbol search order (glibc, or whatever the program links), or mimalloc when
// LEAKSCOPE_ALLOCATOR=mimalloc.
//
// Bootstrap: dlsym() itself may call calloc/malloc before we know where the
// real ones are. While resolving, those calls are served from a static arena;
// freeing arena memory is a no-op (it is not heap memory, so nothing leaks).
#pragma once

#include <pthread.h>

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

// mimalloc, loaded out of the program's view by LoadMimalloc()
// (private_mimalloc.cc), from the shim's constructor, not from inside malloc.
// Null members until then or if it could not be loaded.
struct Mimalloc {
  void* (*malloc)(size_t);
  void (*free)(void*);
  void* (*calloc)(size_t, size_t);
  void* (*realloc)(void*, size_t);
  void* (*malloc_aligned)(size_t, size_t);
  size_t (*usable_size)(const void*);
  bool (*is_in_heap_region)(const void*);
  // mi_process_info: its current_commit is what the shim's memory figures
  // report (memory_figures.h). Null if this mimalloc lacks it.
  void (*process_info)(size_t*, size_t*, size_t*, size_t*, size_t*, size_t*, size_t*, size_t*);
};
bool LoadMimalloc();
extern Mimalloc g_mi;
// Every member is set once malloc is (a release store: threads that existed
// before the load may be allocating meanwhile).
inline bool MimallocLoaded() {
  return __atomic_load_n(&g_mi.malloc, __ATOMIC_ACQUIRE) != nullptr;
}
// The pthread keys of the shim's own libraries, emulated (hidden_registrations.cc):
// mimalloc's functions bind to these.
int PrivateKeyCreate(pthread_key_t* key, void (*destructor)(void*));
int PrivateSetSpecific(pthread_key_t key, const void* value);
// The thread is ending: runs the destructors of the emulated keys with this
// thread's values.
void RunPrivateKeyDestructors();
inline const Mimalloc& Mi() {  // inline: MixedFree calls it on every free
  return g_mi;
}

}  // namespace leakscope::preload
