// Threads the program starts: pthread_create is interposed so that the shim
// learns each new thread's stack and its end without allocating inside the
// program's threads and without a pthread key.
//
// - Stack bounds (for the stack cache): glibc puts the thread descriptor
//   (pthread_self()) at the top of every thread's stack, its own or one the
//   program gave (pthread_attr_setstack), so the stack lies below it; its size
//   comes from the attributes the thread was created with. pthread_getattr_np
//   would do, but it holds the thread's lock while it calls realloc: called
//   from a thread's first recorded allocation, which may be that very realloc
//   (the JVM's threads), it deadlocked.
// - The end: the start routine runs inside a cancellation cleanup handler
//   (pthread_cleanup_push, no allocation), which runs when it returns, calls
//   pthread_exit or is cancelled; the ring is released there. What the thread
//   does after that (thread_local and pthread key destructors) goes to a ring
//   that the drain releases once the thread is gone (ThreadRing::watch_tid),
//   as for every thread the shim did not start (the main thread, raw clone()).
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>

#include "hooks.h"
#include "real_allocator.h"
#include "shim.h"
#include "shim_memory.h"

// The main thread's stack pointer at process start (set by ld.so).
extern "C" void* __libc_stack_end;

namespace leakscope::preload {
namespace {

constexpr uint64_t kPage = 4096;

struct StartArgs {
  void* (*start)(void*);
  void* arg;
  uint64_t stack_size;     // of the thread's stack, guard excluded; 0 if unknown
  uint64_t user_stack_lo;  // the program's own stack (pthread_attr_setstack), or 0
};

// What the attributes say about the new thread's stack. Takes no lock of the
// new thread and allocates nothing (the default attributes have no cpuset).
void DescribeStack(const pthread_attr_t* attr, StartArgs* a) {
  pthread_attr_t defaults;
  if (!attr) {
    if (pthread_getattr_default_np(&defaults) != 0) return;
    attr = &defaults;
  }
  void* addr = nullptr;
  size_t size = 0, guard = 0;
  // glibc reports an unset stack address as (0 - size).
  if (pthread_attr_getstack(attr, &addr, &size) == 0 &&
      reinterpret_cast<uintptr_t>(addr) + size != 0) {
    a->user_stack_lo = reinterpret_cast<uintptr_t>(addr);
    a->stack_size = size;
  } else if (pthread_attr_getstacksize(attr, &size) == 0 &&
             pthread_attr_getguardsize(attr, &guard) == 0 && size > guard + kPage) {
    // The mapping's top is within a page above the descriptor: leaving out
    // the lowest page keeps the bound inside the stack.
    a->stack_size = size - guard - kPage;
  }
  if (attr == &defaults) pthread_attr_destroy(&defaults);
}

// Cancellation cleanup of the start routine: the thread is ending.
void ThreadEnded(void*) {
  ThreadState& t = t_thread;
  const bool was_busy = t.busy;
  t.busy = true;
  t.started_by_shim = false;  // what it still does is watched (see above)
  if (ThreadRing* r = t.ring) {
    t.ring = nullptr;
    ReleaseThreadRing(r);
  }
  t.stack_lo = t.stack_hi = 0;
  RunPrivateKeyDestructors();
  t.busy = was_busy;
}

void* StartThread(void* p) {
  const StartArgs a = *static_cast<StartArgs*>(p);
  ShimFree(p);
  ThreadState& t = t_thread;
  t.started_by_shim = true;
  const uint64_t hi = reinterpret_cast<uintptr_t>(pthread_self());
  const uint64_t lo = a.user_stack_lo ? a.user_stack_lo : hi - a.stack_size;
  if (a.stack_size && lo < hi) {
    t.stack_lo = lo;
    t.stack_hi = hi;
  }
  void* ret;
  pthread_cleanup_push(ThreadEnded, nullptr);
  ret = a.start(a.arg);
  pthread_cleanup_pop(1);
  return ret;
}

}  // namespace

void FindStackOfUnstartedThread(ThreadState& t) {
  // The main thread: its stack ends at __libc_stack_end and may grow down to
  // RLIMIT_STACK below it. Any other thread gets no bounds (no stack cache).
  const uint64_t sp = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  const uint64_t top = reinterpret_cast<uintptr_t>(__libc_stack_end);
  rlimit limit;
  if (!top || getrlimit(RLIMIT_STACK, &limit) != 0) return;
  const uint64_t size =
      limit.rlim_cur == RLIM_INFINITY || limit.rlim_cur > top ? top : limit.rlim_cur;
  if (sp < top && sp >= top - size) {
    t.stack_lo = top - size;
    t.stack_hi = top;
  }
}

}  // namespace leakscope::preload

using namespace leakscope::preload;

extern "C" __attribute__((visibility("default"))) int pthread_create(pthread_t* thread,
                                                                     const pthread_attr_t* attr,
                                                                     void* (*start)(void*),
                                                                     void* arg) {
  const auto real = Real().pthread_create;
  if (!g_shim.recording) return real(thread, attr, start, arg);  // nothing to attach to
  ThreadState& t = t_thread;
  const bool was_busy = t.busy;
  t.busy = true;  // the shim's own work: not the program's allocations
  auto* a = static_cast<StartArgs*>(ShimAlloc(sizeof(StartArgs)));
  if (a) {
    *a = StartArgs{start, arg, 0, 0};
    DescribeStack(attr, a);
  }
  t.busy = was_busy;
  // Without memory for the arguments, the thread runs unwrapped: watched.
  if (!a) return real(thread, attr, start, arg);
  const int rc = real(thread, attr, StartThread, a);
  if (rc != 0) ShimFree(a);
  return rc;
}
