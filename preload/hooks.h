// The next definitions of the functions the shim interposes (other than the
// malloc family: real_allocator.h), resolved all at once with
// dlsym(RTLD_NEXT) when the shim initializes, before anything can need them.
// Never lazily: an exit path or a signal handler must not call dlsym (it
// allocates and takes the loader's lock).
#pragma once

#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include <atomic>

namespace leakscope::preload {

struct Hooks {
  using MainFn = int (*)(int, char**, char**);
  int (*libc_start_main)(MainFn, int, char**, void (*)(), void (*)(), void (*)(), void*);
  void (*exit)(int);
  void (*exit_now)(int);  // _exit
  void (*quick_exit)(int);
  int (*execve)(const char*, char* const[], char* const[]);
  int (*execv)(const char*, char* const[]);
  int (*execvp)(const char*, char* const[]);
  int (*execvpe)(const char*, char* const[], char* const[]);
  void* (*dlopen)(const char*, int);
  int (*dlclose)(void*);
  int (*pthread_create)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
  int (*pthread_key_create)(pthread_key_t*, void (*)(void*));
  int (*pthread_setspecific)(pthread_key_t, const void*);
  int (*sigaction)(int, const struct sigaction*, struct sigaction*);
  __sighandler_t (*signal)(int, __sighandler_t);       // BSD semantics (also bsd_signal, ssignal)
  __sighandler_t (*sysv_signal)(int, __sighandler_t);  // System V semantics
  int (*prctl)(int, unsigned long, unsigned long, unsigned long, unsigned long);  // sandbox.cc
  long (*syscall)(long, long, long, long, long, long, long);                      // sandbox.cc
  int (*pipe2)(int*, int);                             // unwinder_pipe.cc
  void* (*mmap)(void*, size_t, int, int, int, off_t);  // mappings.cc
  int (*munmap)(void*, size_t);
  void* (*mremap)(void*, size_t, size_t, int, ...);
  size_t page_size;  // mappings' lengths are rounded up to it
};

// Resolves every hook (idempotent). Called by the shim's initialization.
void ResolveHooks();

extern Hooks g_hooks;
extern std::atomic<bool> g_hooks_resolved;

// The hooks, resolving them first if a hooked function is called before the
// first allocation (which initializes the shim).
const Hooks& RealSlow();
inline const Hooks& Real() {
  if (__builtin_expect(g_hooks_resolved.load(std::memory_order_acquire), 1)) return g_hooks;
  return RealSlow();
}

}  // namespace leakscope::preload
