// State shared by the hot path (shim.cc), the lifecycle (lifecycle.cc) and
// the drain thread (drain.cc).
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "config.h"
#include "real_allocator.h"
#include "sampler.h"
#include "thread_rings.h"

namespace leakscope::preload {

// The allocator the program's calls go to: the system's, or mimalloc (the
// same table of functions either way).
using Allocator = RealAllocator;

// malloc until the shim is initialized: initializes, then allocates (shim.cc).
void* BootMalloc(size_t size);

struct Shim {
  Config config;
  Allocator alloc{};
  std::atomic<bool> ready{false};  // alloc is set
  // The hot path's view (shim.cc), read on every call without another check:
  // malloc calls hot_malloc (BootMalloc until initialized), and free takes
  // its slow path while every_free is set (until initialized, and when every
  // free is recorded). Set by PublishHotPath() (lifecycle.cc).
  std::atomic<void* (*)(size_t)> hot_malloc{&BootMalloc};
  std::atomic<bool> every_free{true};
  // Events are recorded (a collector socket is configured, the shim is not
  // shutting down). Read with a plain load on every call: written only at
  // start-up, fork and exit.
  bool recording = false;
  std::atomic<uint64_t> dropped_events{0};
  // The program's events that came while their thread was recording
  // another one (signal handlers): lost. The shim's own allocations are not
  // counted here (ThreadState::busy).
  std::atomic<uint64_t> reentrant_events{0};
  std::atomic<uint64_t> threads_seen{0};
  // The process the shim's state belongs to. A vfork() child (posix_spawn,
  // or the program's own vfork + exec) shares our memory but is another pid:
  // it must not flush or finish the parent's stream when it execs or exits.
  std::atomic<int> owner_pid{0};
};

struct ThreadState {
  ThreadRing* ring;
  Sampler sampler;
  uint64_t stack_lo, stack_hi;  // this thread's stack, for the stack cache (0: unknown)
  // The shim's own work on this thread (start-up, attaching, a drain pass,
  // the drain thread itself): its allocations pass through, neither recorded
  // nor counted.
  bool busy;
  // Recording one of the program's events: a call that comes in meanwhile
  // can only be a signal handler's (the recording path itself never
  // allocates). It passes through unrecorded and counts as lost
  // (Shim::reentrant_events).
  bool recording;
  // Started through the shim's pthread_create, and its start routine has not
  // ended: the shim will see the thread end (thread_start.cc). Otherwise its
  // ring is released once the drain finds the thread gone.
  bool started_by_shim;
  uint32_t paused;      // leakscope_pause() depth: allocations are not recorded, frees are
  uint32_t full_walks;  // misses unwound by FullWalk (stack_unwind.h)
};

extern Shim g_shim;
extern __thread ThreadState t_thread __attribute__((tls_model("initial-exec")));

// False in a vfork() child (a syscall: for exec and exit paths only).
inline bool InOwnerProcess() {
  return getpid() == g_shim.owner_pid.load(std::memory_order_relaxed);
}

// lifecycle.cc
bool EnsureInitialized();  // false when called from inside the initialization
ThreadRing* AttachThread(ThreadState& t);
void InitSampler(ThreadState& t);
void PublishHotPath();  // after g_shim.alloc, recording or the interval changed

// signal_deaths.cc: a flushing handler for every signal the program leaves
// at a default action that ends the process.
void InstallDeathSignalHandlers();

// thread_start.cc: the stack of a thread the shim did not start (the main
// thread; 0 when unknown), found without allocating.
void FindStackOfUnstartedThread(ThreadState& t);

// mappings.cc: the program's anonymous mappings (recorded in every mode,
// sampled or not). Lengths in whole pages.
void RecordMap(void* p, size_t length);
void RecordUnmap(void* p, size_t length);
// mremap: before the call (the old range), and after it (the new one; a
// failed call: the old range again, or length 0 if it was to be kept).
void RecordRemapBegin(void* old_p, size_t old_length, bool keep_old);
void RecordRemapEnd(void* old_p, void* new_p, size_t new_length);
// A return address inside the shim's own code (its calls are not the program's).
bool IsShimCode(uint64_t pc);

// Records as if the program had called malloc/free (in-process API, custom allocators).
void RecordExternalAlloc(void* p, size_t size);
void RecordExternalFree(void* p);

}  // namespace leakscope::preload
