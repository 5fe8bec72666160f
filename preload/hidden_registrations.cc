// What the shim's own libraries would register in the program's process-wide
// tables, kept out of them: their pthread keys are emulated.
//
// mimalloc (the shim's heap) creates a key when it is loaded, libunwind one
// at its first backtrace, each for a destructor that hands a thread's memory
// back when the thread ends. Real keys would be fewer for the program
// (PTHREAD_KEYS_MAX in all). mimalloc's imports bind to PrivateKeyCreate and
// PrivateSetSpecific (private_mimalloc.cc); libunwind binds pthread_key_create
// and pthread_setspecific through the global scope, where the shim comes
// first, and a key created from inside the shim (`recording`: unwinding, or
// `busy`: the drain, the shim's other work) is emulated too. An emulated key
// is a value glibc never hands out, its per-thread value lives in the shim's
// TLS, and the shim's thread-end hook (thread_start.cc) runs its destructor.
// Every other call goes straight to glibc. (A thread the shim did not start
// never runs them: the main thread's end is the process's.)
#include <errno.h>
#include <limits.h>
#include <pthread.h>

#include <atomic>

#include "hooks.h"
#include "real_allocator.h"
#include "shim.h"

namespace leakscope::preload {
namespace {

constexpr unsigned kMaxKeys = 4;
// glibc's keys are below PTHREAD_KEYS_MAX (1024).
constexpr pthread_key_t kFirstKey = 0x4c534b00u;  // "LSK\0"
std::atomic<unsigned> g_keys{0};
void (*g_destructors[kMaxKeys])(void*);
__thread void* t_values[kMaxKeys] __attribute__((tls_model("initial-exec")));

inline bool Emulated(pthread_key_t key) {
  return key - kFirstKey < kMaxKeys;
}

}  // namespace

int PrivateKeyCreate(pthread_key_t* key, void (*destructor)(void*)) {
  const unsigned i = g_keys.fetch_add(1, std::memory_order_relaxed);
  if (i >= kMaxKeys) return EAGAIN;
  g_destructors[i] = destructor;
  *key = kFirstKey + i;
  return 0;
}

int PrivateSetSpecific(pthread_key_t key, const void* value) {
  if (!Emulated(key)) return Real().pthread_setspecific(key, value);
  t_values[key - kFirstKey] = const_cast<void*>(value);
  return 0;
}

void RunPrivateKeyDestructors() {
  // As glibc does: values set again by a destructor get more rounds.
  for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; ++round) {
    bool any = false;
    for (unsigned i = 0; i < kMaxKeys; ++i) {
      void* value = t_values[i];
      if (!value || !g_destructors[i]) continue;
      t_values[i] = nullptr;
      g_destructors[i](value);
      any = true;
    }
    if (!any) return;
  }
}

}  // namespace leakscope::preload

using namespace leakscope::preload;

extern "C" {

__attribute__((visibility("default"))) int pthread_key_create(pthread_key_t* key,
                                                              void (*destructor)(void*)) {
  if ((t_thread.busy || t_thread.recording) && PrivateKeyCreate(key, destructor) == 0) return 0;
  return Real().pthread_key_create(key, destructor);
}

__attribute__((visibility("default"))) int pthread_setspecific(pthread_key_t key,
                                                               const void* value) {
  return PrivateSetSpecific(key, value);
}

}  // extern "C"
