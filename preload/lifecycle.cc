// The shim's life around the hot path: initialization at the very first
// allocation (before any constructor), the start-up constructor, threads
// attaching and exiting, fork, dlopen/dlclose, and every way out of the
// process.
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string_view>

#include "clock.h"
#include "drain.h"
#include "frame_walk.h"
#include "hooks.h"
#include "module_map.h"
#include "real_allocator.h"
#include "shim.h"
#include "shim_memory.h"

// glibc's dlopen, for the trampoline (set before each jump to it).
extern "C" void* leakscope_real_dlopen;
void* leakscope_real_dlopen;

namespace leakscope::preload {
namespace {

std::atomic<int> g_init{0};  // 0 not started, 1 running, 2 done
__thread bool t_initializing __attribute__((tls_model("initial-exec")));
std::atomic<uint64_t> g_thread_index{0};

// --- mimalloc for the program (LEAKSCOPE_ALLOCATOR=mimalloc) ---------------
// Blocks allocated before mimalloc was loaded belong to the system allocator,
// so frees and reallocs check which heap a block is in.
void MixedFree(void* p) {
  if (Mi().is_in_heap_region(p)) return Mi().free(p);
  System()->free(p);
}
size_t MixedUsableSize(void* p) {
  if (Mi().is_in_heap_region(p)) return Mi().usable_size(p);
  return System()->malloc_usable_size(p);
}
int MiPosixMemalign(void** out, size_t align, size_t size) {
  if (align < sizeof(void*) || (align & (align - 1))) return EINVAL;
  void* p = Mi().malloc_aligned(size, align);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
void* MiAligned(size_t align, size_t size) {
  return Mi().malloc_aligned(size, align);
}
void* MiValloc(size_t size) {
  return Mi().malloc_aligned(size, 4096);
}
void* MiPvalloc(size_t size) {
  return Mi().malloc_aligned((size + 4095) & ~size_t{4095}, 4096);
}

void UseMimallocForProgram() {
  Allocator a = g_shim.alloc;
  a.malloc = Mi().malloc;
  a.calloc = Mi().calloc;
  a.free = MixedFree;
  a.realloc = MixedRealloc;
  a.malloc_usable_size = MixedUsableSize;
  a.posix_memalign = MiPosixMemalign;
  a.aligned_alloc = MiAligned;
  a.memalign = MiAligned;
  a.valloc = MiValloc;
  a.pvalloc = MiPvalloc;
  g_shim.alloc = a;
  PublishHotPath();
}

// LEAKSCOPE_NO_FOLLOW=1: programs this one execs start without the shim.
// Edits LD_PRELOAD in place (no allocation: this runs at the first malloc).
void StopFollowingExec() {
  for (char** e = environ; e && *e; ++e) {
    if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0) continue;
    char* out = *e + 11;
    const char* in = out;
    while (*in) {
      const char* end = in + std::strcspn(in, ": ");
      const size_t len = size_t(end - in);
      const bool ours = std::string_view(in, len).find("libleakscope") != std::string_view::npos;
      if (len && !ours) {
        if (out != *e + 11) *out++ = ':';
        std::memmove(out, in, len);
        out += len;
      }
      in = *end ? end + 1 : end;
    }
    *out = 0;
  }
}

// One line on stderr, without allocating.
void WarnDeepbindDropped(const char* file) {
  char line[512];
  const char* name = file ? file : "(null)";
  const int n = snprintf(line, sizeof line,
                         "leakscope: dlopen(\"%.400s\") without RTLD_DEEPBIND, so that the "
                         "library's malloc and free are traced\n",
                         name);
  if (n > 0) (void)!write(2, line, size_t(n) < sizeof line ? size_t(n) : sizeof line - 1);
}

void Initialize() {
  g_shim.owner_pid.store(getpid(), std::memory_order_relaxed);
  LoadConfig(&g_shim.config);
  if (g_shim.config.no_follow) StopFollowingExec();
  const RealAllocator* sys = System();
  g_shim.alloc = *sys;
  ResolveHooks();
  Modules();  // constructed here, on one thread (no thread-safe statics)
  // Record from here on; the drain thread starts in the constructor and
  // sends what the rings buffered until then.
  g_shim.recording = g_shim.config.socket_path[0] != 0;
}

// --- fork -------------------------------------------------------------------
void BeforeFork() {
  // The marker's pass runs on this thread: what it allocates is the shim's,
  // and it must not wait for ring space the drain (whose lock it holds) frees.
  ThreadState& t = t_thread;
  const bool was_busy = t.busy;
  t.busy = true;
  DrainBeforeFork();
  t.busy = was_busy;
}
void AfterForkParent() {
  DrainAfterForkParent();
}
void AfterForkChild() {
  g_shim.owner_pid.store(getpid(), std::memory_order_relaxed);
  // Only the forking thread exists in the child; the other threads' rings
  // hold the parent's events, which the parent sends.
  for (ThreadRing* r = FirstThreadRing(); r; r = r->next) {
    r->ring.ReleaseTo(r->ring.WritePos());
    r->drain_last_time = r->last_time;  // the dropped records' last (event_record.h)
    if (r != t_thread.ring && r->state.load() == ThreadRing::kOwned) ReleaseThreadRing(r);
  }
  // This thread is another kernel thread in the child.
  if (ThreadRing* r = t_thread.ring; r && r->watch_tid.load(std::memory_order_relaxed))
    r->watch_tid.store(gettid(), std::memory_order_relaxed);
  DrainAfterForkChild();
}

}  // namespace

bool EnsureInitialized() {
  if (t_initializing) return false;
  int expected = 0;
  if (g_init.compare_exchange_strong(expected, 1)) {
    t_initializing = true;
    Initialize();
    t_initializing = false;
    PublishHotPath();
    g_shim.ready.store(true, std::memory_order_release);
    g_init.store(2, std::memory_order_release);
  } else {
    while (g_init.load(std::memory_order_acquire) != 2) {
    }
  }
  return true;
}

// Allocates nothing and takes no lock: this may be the thread's first
// recorded allocation, made from inside glibc (thread_start.cc).
ThreadRing* AttachThread(ThreadState& t) {
  ThreadRing* r = AcquireThreadRing(g_shim.config.ring_words);
  if (!g_shim.config.stack_cache) {
    t.stack_lo = t.stack_hi = 0;
  } else if (!t.started_by_shim && !t.stack_hi) {
    FindStackOfUnstartedThread(t);
  }
  if (r) {
    // The shim will not see the end of a thread it did not start: the drain
    // releases the ring once the thread is gone.
    r->watch_tid.store(t.started_by_shim ? 0 : gettid(), std::memory_order_relaxed);
    g_shim.threads_seen.fetch_add(1, std::memory_order_relaxed);
  }
  t.ring = r;
  return r;
}

void InitSampler(ThreadState& t) {
  uint64_t seed = g_shim.config.seed;
  const uint64_t index = g_thread_index.fetch_add(1, std::memory_order_relaxed);
  seed = seed ? seed + index * 0x632BE59BD9B4E019ull : EventClockNow() ^ uint64_t(gettid());
  // Not recording (no collector configured): an interval so long that the
  // countdown keeps malloc on its fast path.
  const uint64_t interval = g_shim.recording ? g_shim.config.sample_interval : uint64_t{1} << 62;
  t.sampler.Init(interval, seed);
}

}  // namespace leakscope::preload

using namespace leakscope::preload;

namespace {

// Runs before the program's constructors that come after us; allocations
// made earlier are already in the rings.
__attribute__((constructor)) void LeakscopeStart() {
  EnsureInitialized();
  ThreadState& t = t_thread;
  t.busy = true;  // our own allocations here are not the program's
  const bool mi = LoadMimalloc();
  if (mi && g_shim.config.use_mimalloc) UseMimallocForProgram();
  if (!mi && g_shim.config.use_mimalloc) {
    static const char kNoMimalloc[] =
        "leakscope: LEAKSCOPE_ALLOCATOR=mimalloc: mimalloc could not be loaded; the program keeps "
        "its allocator\n";
    (void)!write(2, kNoMimalloc, sizeof kNoMimalloc - 1);
  }
  if (g_shim.recording) {
    pthread_atfork(BeforeFork, AfterForkParent, AfterForkChild);
    InstallDeathSignalHandlers();
    if (!StartDrain()) {
      g_shim.recording = false;
      PublishHotPath();
    }
  }
  t.busy = false;
}

__attribute__((destructor)) void LeakscopeStop() {
  if (!g_shim.recording) return;
  t_thread.busy = true;
  FinishProcess(nullptr, "destructor");
  t_thread.busy = false;
}

}  // namespace

extern "C" {

// dlopen() is a jump to glibc's (dlopen_trampoline below), after this: glibc
// resolves a name against the *calling* object's RUNPATH and $ORIGIN, which
// it finds from its own return address, so no frame of the shim may come
// in between. The module map sees the new library by the loader's count of
// loads (ModuleMap::TryRefresh).
// A library loaded RTLD_DEEPBIND would bind its own malloc and free to libc's
// ahead of the shim's: its allocations unseen, the program's blocks it frees
// reported as leaks. Recording, the flag is dropped, with a warning (as
// heaptrack does). Returns the mode to load with.
int LeakscopeBeforeDlopen(const char* file, int mode) {
  leakscope_real_dlopen = reinterpret_cast<void*>(Real().dlopen);
  if ((mode & RTLD_DEEPBIND) && g_shim.recording) {
    mode &= ~RTLD_DEEPBIND;
    WarnDeepbindDropped(file);
  }
  return mode;
}

// The map is refreshed before the object goes, so its stacks still symbolize.
__attribute__((visibility("default"))) int dlclose(void* handle) {
  const auto real = Real().dlclose;
  if (g_shim.recording) {
    const bool was_busy = t_thread.busy;
    t_thread.busy = true;
    Modules().NoteChange();
    Modules().RefreshBeforeUnload();
    t_thread.busy = was_busy;
  }
  int rc = real(handle);
  Modules().NoteChange();
  // Its code's step rules (frame_walk.h) must not serve code loaded there later.
  frame_walk::g_rules.Clear();
  return rc;
}

}  // extern "C"

#if defined(__x86_64__)
// void* dlopen(const char* file, int mode): mode = LeakscopeBeforeDlopen(file,
// mode), then a tail jump to glibc's dlopen with the caller's return address.
asm(R"(
  .text
  .globl dlopen
  .type dlopen, @function
dlopen:
  .cfi_startproc
  push %rdi
  .cfi_adjust_cfa_offset 8
  push %rsi
  .cfi_adjust_cfa_offset 8
  sub $8, %rsp
  .cfi_adjust_cfa_offset 8
  call LeakscopeBeforeDlopen
  add $8, %rsp
  .cfi_adjust_cfa_offset -8
  pop %rsi
  .cfi_adjust_cfa_offset -8
  pop %rdi
  .cfi_adjust_cfa_offset -8
  mov %eax, %esi
  jmp *leakscope_real_dlopen(%rip)
  .cfi_endproc
  .size dlopen, .-dlopen
)");
#else
// Elsewhere, a tail call the compiler is trusted to make (-O2).
extern "C" __attribute__((visibility("default"))) void* dlopen(const char* file, int mode) {
  mode = LeakscopeBeforeDlopen(file, mode);
  return reinterpret_cast<void* (*)(const char*, int)>(leakscope_real_dlopen)(file, mode);
}
#endif
