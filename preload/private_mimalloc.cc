// mimalloc, the shim's own heap (and the program's with
// LEAKSCOPE_ALLOCATOR=mimalloc), loaded by the shim's private loader
// (private_loader.h) from the file the build found. Debian ships it only as a
// shared library, and a dlopen, even RTLD_LOCAL, put it in the program's link
// map (dl_iterate_phdr, ld.so's tables for every later dlopen) with a TLS
// module of ld.so's.
//
// Its imports bind to what a dlopen would bind them to, except what it would
// register in the program's process-wide tables: its pthread key is emulated
// (hidden_registrations.cc), and its atexit handler (mi_process_done:
// statistics, and its heap shut down while the shim's destructor may still
// need it) is dropped: it would take one of the program's 32 atexit slots that
// need no allocation.
//
// Its thread-locals (its default heap, a recursion flag) live in the shim's
// static TLS. A thread's copy is set from the relocated image before the
// thread's first call into mimalloc (every entry point checks), so threads
// that existed before the load (started by constructors that ran before the
// shim's) get it too, which a patched TLS image for new threads would miss.
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <iterator>

#include "mappings.h"
#include "private_loader.h"
#include "real_allocator.h"

// The C library's functions mimalloc imports, by their symbol names (the C++
// headers declare some as overloads or inline wrappers).
#define LEAKSCOPE_LIBC(name) extern "C" void leakscope_libc_##name() __asm__(#name);
LEAKSCOPE_LIBC(__ctype_toupper_loc)
LEAKSCOPE_LIBC(__errno_location)
LEAKSCOPE_LIBC(__snprintf_chk)
LEAKSCOPE_LIBC(__stack_chk_fail)
LEAKSCOPE_LIBC(__vsnprintf_chk)
LEAKSCOPE_LIBC(abort)
LEAKSCOPE_LIBC(access)
LEAKSCOPE_LIBC(clock_gettime)
LEAKSCOPE_LIBC(close)
LEAKSCOPE_LIBC(fputs)
LEAKSCOPE_LIBC(free)
LEAKSCOPE_LIBC(getenv)
LEAKSCOPE_LIBC(getrusage)
LEAKSCOPE_LIBC(madvise)
LEAKSCOPE_LIBC(memchr)
LEAKSCOPE_LIBC(memcpy)
LEAKSCOPE_LIBC(memset)
LEAKSCOPE_LIBC(mprotect)
LEAKSCOPE_LIBC(open)
LEAKSCOPE_LIBC(read)
LEAKSCOPE_LIBC(realpath)
LEAKSCOPE_LIBC(strerror)
LEAKSCOPE_LIBC(strlen)
LEAKSCOPE_LIBC(strstr)
LEAKSCOPE_LIBC(strtol)
LEAKSCOPE_LIBC(syscall)
LEAKSCOPE_LIBC(sysconf)
#undef LEAKSCOPE_LIBC

namespace leakscope::preload {
namespace {

constexpr size_t kTlsBytes = 64, kTlsAlign = 64;
alignas(kTlsAlign) __thread char t_tls[kTlsBytes] __attribute__((tls_model("initial-exec")));
__thread bool t_tls_ready __attribute__((tls_model("initial-exec")));
PrivateTls g_tls{};
Mimalloc g_entry;  // mimalloc's own entry points, called once this thread's copy is set

__attribute__((noinline)) void ReadyThisThread() {
  if (g_tls.image_size) std::memcpy(t_tls, g_tls.image, g_tls.image_size);
  std::memset(t_tls + g_tls.image_size, 0, kTlsBytes - g_tls.image_size);
  t_tls_ready = true;
}
inline void Ready() {
  if (__builtin_expect(!t_tls_ready, 0)) ReadyThisThread();
}

void* Malloc(size_t size) {
  Ready();
  return g_entry.malloc(size);
}
void Free(void* p) {
  Ready();
  g_entry.free(p);
}
void* Calloc(size_t count, size_t size) {
  Ready();
  return g_entry.calloc(count, size);
}
void* Realloc(void* p, size_t size) {
  Ready();
  return g_entry.realloc(p, size);
}
void* MallocAligned(size_t size, size_t align) {
  Ready();
  return g_entry.malloc_aligned(size, align);
}
size_t UsableSize(const void* p) {
  Ready();
  return g_entry.usable_size(p);
}
bool IsInHeapRegion(const void* p) {
  Ready();
  return g_entry.is_in_heap_region(p);
}
void ProcessInfo(size_t* a, size_t* b, size_t* c, size_t* d, size_t* e, size_t* f, size_t* g,
                 size_t* h) {
  Ready();
  g_entry.process_info(a, b, c, d, e, f, g, h);
}

int NotAtExit(void (*)(void*), void*, void*) {
  return 0;
}

template <typename F>
void* Address(F* f) {
  return reinterpret_cast<void*>(f);
}

template <typename F>
bool Find(const PrivateObject& o, F*& slot, const char* name) {
  slot = reinterpret_cast<F*>(PrivateSymbol(o, name));
  return slot != nullptr;
}

}  // namespace

bool LoadMimalloc() {
#define LIBC(name) \
  { #name, Address(&leakscope_libc_##name) }
  const PrivateImport imports[] = {
      LIBC(__ctype_toupper_loc),
      LIBC(__errno_location),
      LIBC(__snprintf_chk),
      LIBC(__stack_chk_fail),
      LIBC(__vsnprintf_chk),
      LIBC(abort),
      LIBC(access),
      LIBC(clock_gettime),
      LIBC(close),
      LIBC(fputs),
      LIBC(free),  // it frees what realpath() returned
      LIBC(getenv),
      LIBC(getrusage),
      LIBC(madvise),
      LIBC(memchr),
      LIBC(memcpy),
      LIBC(memset),
      // Its memory is the shim's (or the program's heap, under
      // LEAKSCOPE_ALLOCATOR=mimalloc), never the program's mappings: straight
      // to the kernel, not through the interposed mmap (mappings.cc).
      {"mmap", Address(&ShimMmap)},
      LIBC(mprotect),
      {"munmap", Address(&ShimMunmap)},
      LIBC(open),
      LIBC(read),
      LIBC(realpath),
      LIBC(strerror),
      LIBC(strlen),
      LIBC(strstr),
      LIBC(strtol),
      LIBC(syscall),
      LIBC(sysconf),
      {"environ", &environ},
      {"__environ", &__environ},
      {"stdout", &stdout},
      {"stderr", &stderr},
      {"pthread_key_create", Address(&PrivateKeyCreate)},
      {"pthread_setspecific", Address(&PrivateSetSpecific)},
      {"__cxa_atexit", Address(&NotAtExit)},
  };
#undef LIBC
  g_tls = PrivateTls{t_tls, kTlsBytes, kTlsAlign};
  PrivateObject o;
  if (!LoadPrivateObject(LEAKSCOPE_MIMALLOC_PATH, imports, std::size(imports), &g_tls, &o))
    return false;
  Mimalloc m{};
  if (!Find(o, m.malloc, "mi_malloc") || !Find(o, m.free, "mi_free") ||
      !Find(o, m.calloc, "mi_calloc") || !Find(o, m.realloc, "mi_realloc") ||
      !Find(o, m.malloc_aligned, "mi_malloc_aligned") ||
      !Find(o, m.usable_size, "mi_usable_size") ||
      !Find(o, m.is_in_heap_region, "mi_is_in_heap_region")) {
    munmap(o.mapping, o.mapping_size);
    return false;
  }
  Find(o, m.process_info, "mi_process_info");  // optional: memory figures only
  g_entry = m;
  ReadyThisThread();
  RunPrivateInitializers(o);
  g_mi.free = Free;
  g_mi.calloc = Calloc;
  g_mi.realloc = Realloc;
  g_mi.malloc_aligned = MallocAligned;
  g_mi.usable_size = UsableSize;
  g_mi.is_in_heap_region = IsInHeapRegion;
  if (m.process_info) g_mi.process_info = ProcessInfo;
  __atomic_store_n(&g_mi.malloc, &Malloc, __ATOMIC_RELEASE);
  return true;
}

}  // namespace leakscope::preload
