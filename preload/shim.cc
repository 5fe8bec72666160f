// The allocation hot path: every intercepted function of the malloc family.
//
// Each entry point calls the real allocator, then (allocations) or before
// (frees) records the event into the calling thread's ring:
//   - no lock, no syscall, no allocation on that path;
//   - thread-local flags make a re-entered shim pass straight through: `busy`
//     (the shim's own work: silently) and `recording` (a signal handler that
//     interrupted a recording: its event is lost, and counted);
//   - frees are recorded before the real free and allocations after the real
//     allocation, so an address is never seen reused before it was seen freed.
// Everything else (init, threads, fork, exit) is in lifecycle.cc; the drain
// thread is in drain.cc.
#include "shim.h"

#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "clock.h"
#include "drain.h"
#include "event_record.h"
#include "page_marks.h"
#include "real_allocator.h"
#include "sampled_set.h"
#include "stack_unwind.h"

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

// The shim's own code: frames in here are not the program's call site.
extern "C" char __ehdr_start[] __attribute__((visibility("hidden")));
extern "C" char __etext[] __attribute__((visibility("hidden")));

namespace leakscope::preload {

Shim g_shim;
__thread ThreadState t_thread __attribute__((tls_model("initial-exec")));

namespace {

SampledSet<16> g_sampled;
PageMarks g_marks;  // the filter in front of g_sampled

inline bool InShim(uint64_t pc) {
  return pc >= reinterpret_cast<uint64_t>(__ehdr_start) && pc < reinterpret_cast<uint64_t>(__etext);
}

// The stack of the program's call, and the long form of the record's header
// (EncodeAlloc shortens it). When the live stack still matches an entry of
// the thread's stack cache (stack_cache.h), the record only refers to it
// (kAllocCached, no frames: the drain has them). Else libunwind writes the
// frames into rec[kRecordHeaderWords...], and the cache keeps them under a
// new reference the record carries.
// `sp` is RecordAlloc's frame: the same for every call from one call path.
inline uint64_t CaptureStack(uint64_t* rec, ThreadState& t, ThreadRing* r, uint64_t sp) {
  if (uint32_t ref = r->stacks.Lookup(sp)) return kAllocCachedLongHeader | uint64_t{ref} << 32;
  uint32_t ref;
  const uint32_t n = UnwindAndCache(r->stacks, sp, t.stack_lo, t.stack_hi, rec + kRecordHeaderWords,
                                    &ref, &t.full_walks, [](uint64_t pc) { return InShim(pc); });
  return AllocHeader(n) | uint64_t{ref} << 32;
}

// Wakes the drain thread early when this ring passes half full (see
// RingBuffer::PastHalfFull for why that is not a plain fill check).
inline void WakeIfHalfFull(ThreadRing* r) {
  if (UNLIKELY(r->ring.PastHalfFull())) WakeDrain();
}

// The slow push: the record wraps around the ring's end, or the ring is full.
// False if it was dropped.
__attribute__((noinline)) bool Push(ThreadRing* r, const uint64_t* rec, size_t words) {
  if (LIKELY(r->ring.TryPush(rec, words))) {
    WakeIfHalfFull(r);
    return true;
  }
  if (g_shim.config.lossless && WaitForRingSpace(r, words)) {
    r->ring.TryPush(rec, words);
    return true;
  }
  g_shim.dropped_events.fetch_add(1, std::memory_order_relaxed);
  return false;
}

// A call that came in while this thread was inside the shim: if it was
// recording, the program's own event is lost (a signal handler interrupted
// the recording); if it was the shim's own work, the call was the shim's.
__attribute__((noinline)) void PassThrough(const ThreadState& t) {
  if (!t.busy) g_shim.reentrant_events.fetch_add(1, std::memory_order_relaxed);
}

// Enters the shim for recording; false if the thread is already inside it.
inline bool Enter(ThreadState& t) {
  if (UNLIKELY(t.busy || t.recording)) {
    PassThrough(t);
    return false;
  }
  t.recording = true;
  std::atomic_signal_fence(std::memory_order_seq_cst);  // a handler sees it before any ring access
  return true;
}
inline void Leave(ThreadState& t) {
  std::atomic_signal_fence(std::memory_order_seq_cst);
  t.recording = false;
}

// RecordAlloc when the ring is missing, the stack is not cached, or
// ReserveFast said no. Entered (recording); leaves. Returns p.
__attribute__((noinline)) void* RecordAllocSlow(ThreadState& t, uint64_t sp, void* p, size_t size) {
  ThreadRing* r = t.ring ? t.ring : AttachThread(t);
  if (UNLIKELY(r == nullptr)) {
    Leave(t);
    return p;
  }
  const auto address = reinterpret_cast<uint64_t>(p);
  if (uint64_t* rec = r->ring.Reserve(kMaxRecordWords)) {
    const uint64_t header = CaptureStack(rec, t, r, sp);
    const uint64_t time = EventTime();
    const uint32_t words = EncodeAlloc(rec, header, time, r->last_time, address, size);
    r->last_time = time;
    if (r->ring.Commit(words)) WakeIfHalfFull(r);
  } else if (UNLIKELY(!g_shim.config.lossless && !r->ring.HasSpace(kMaxRecordWords))) {
    // It would be dropped: don't pay for the unwind first.
    g_shim.dropped_events.fetch_add(1, std::memory_order_relaxed);
    WakeDrain();
  } else {  // near the ring's end, or waiting for room (lossless)
    uint64_t tmp[kMaxRecordWords];
    const uint64_t header = CaptureStack(tmp, t, r, sp);
    const uint64_t time = EventTime();
    const uint32_t words = EncodeAlloc(tmp, header, time, r->last_time, address, size);
    const bool stored = HeaderKind(header) == EventKind::kAlloc && HeaderCacheRef(header);
    if (Push(r, tmp, words))
      r->last_time = time;
    else if (stored)  // the drain would never see the frames the entry now holds
      r->stacks.Forget(HeaderCacheRef(header));
  }
  Leave(t);
  return p;
}

// After a push that may have taken the ring past half full (Commit said so).
// Entered (recording); leaves. Returns p.
__attribute__((noinline)) void* WakeIfHalfFullAndLeave(ThreadState& t, ThreadRing* r, void* p) {
  WakeIfHalfFull(r);
  Leave(t);
  return p;
}

// Records an allocation; returns p, so that callers can end in a tail call.
// The common case is inline and makes no call: a stack the cache still holds
// (the record refers to it: 2 words, kAllocPacked, when its values fit) and
// room in place (see RingBuffer::ReserveFast).
__attribute__((noinline)) void* RecordAlloc(void* p, size_t size) {
  ThreadState& t = t_thread;
  if (UNLIKELY(t.paused)) return p;  // leakscope_pause(), preload/api.cc
  if (!Enter(t)) return p;
  const uint64_t sp = reinterpret_cast<uint64_t>(__builtin_frame_address(0));
  ThreadRing* r = t.ring;
  uint64_t* rec;
  uint32_t ref;
  const uint64_t time = EventTime();  // (meaningless without a ring: then unused)
  if (UNLIKELY(r == nullptr) || UNLIKELY(!(ref = r->stacks.Lookup(sp))) ||
      UNLIKELY(!(rec = r->ring.ReserveFast(kRecordHeaderWords))))
    return RecordAllocSlow(t, sp, p, size);
  const uint32_t words = EncodeAlloc(rec, kAllocCachedLongHeader | uint64_t{ref} << 32, time,
                                     r->last_time, reinterpret_cast<uint64_t>(p), size);
  r->last_time = time;
  if (UNLIKELY(r->ring.Commit(words))) return WakeIfHalfFullAndLeave(t, r, p);
  Leave(t);
  return p;
}

// RecordFree when the ring is missing or ReserveFast said no. Entered
// (recording); leaves.
__attribute__((noinline)) void RecordFreeSlow(ThreadState& t, void* p) {
  ThreadRing* r = t.ring ? t.ring : AttachThread(t);
  if (LIKELY(r != nullptr)) {
    uint64_t rec[kFreeLongRecordWords];
    const uint64_t time = EventTime();
    const uint32_t words = EncodeFree(rec, time, r->last_time, reinterpret_cast<uint64_t>(p));
    if (uint64_t* slot = r->ring.Reserve(words)) {
      std::memcpy(slot, rec, words * sizeof(uint64_t));
      r->last_time = time;
      if (r->ring.Commit(words)) WakeIfHalfFull(r);
    } else if (Push(r, rec, words)) {
      r->last_time = time;
    }
  }
  Leave(t);
}

inline void RecordFree(void* p) {
  ThreadState& t = t_thread;
  if (!Enter(t)) return;
  ThreadRing* r = t.ring;
  uint64_t* rec;
  const uint64_t time = EventTime();  // (meaningless without a ring: then unused)
  if (UNLIKELY(r == nullptr) || UNLIKELY(!(rec = r->ring.ReserveFast(kFreeLongRecordWords))))
    return RecordFreeSlow(t, p);
  const uint32_t words = EncodeFree(rec, time, r->last_time, reinterpret_cast<uint64_t>(p));
  r->last_time = time;
  if (UNLIKELY(r->ring.Commit(words))) {
    WakeIfHalfFullAndLeave(t, r, p);
    return;
  }
  Leave(t);
}

// MaybeSample said maybe. Returns p.
__attribute__((noinline)) void* SampledAlloc(void* p, size_t size) {
  ThreadState& t = t_thread;
  t.sampler.Decide(size);
  // Paused, the shim's own allocation (the drain thread), or a signal
  // handler's while this thread records: not in the sampled set, so its free
  // is not recorded either.
  if (UNLIKELY(t.paused || t.busy || t.recording)) {
    if (!t.paused) PassThrough(t);
    return p;
  }
  g_marks.Add(p);  // before the program has p: its free will look in the set
  if (!g_sampled.Insert(reinterpret_cast<uint64_t>(p))) {
    g_marks.Remove(p);
    g_shim.dropped_events.fetch_add(1, std::memory_order_relaxed);
    return p;
  }
  return RecordAlloc(p, size);
}

inline void* RecordOrSample(void* p, size_t size) {
  if (g_shim.config.sample_interval > 1) return SampledAlloc(p, size);
  return RecordAlloc(p, size);
}

// AllocSlow when this thread's sampler is not set up yet, or nothing is to
// be recorded. Returns p.
__attribute__((noinline)) void* AllocUnusual(void* p, size_t size) {
  ThreadState& t = t_thread;
  if (UNLIKELY(!t.sampler.initialized())) {
    if (!g_shim.ready.load(std::memory_order_acquire)) return p;  // served by BootMalloc
    InitSampler(t);
    if (!t.sampler.MaybeSample(size)) return p;
  }
  if (UNLIKELY(!g_shim.recording) || UNLIKELY(p == nullptr)) {
    t.sampler.Decide(size);  // start a new countdown
    return p;
  }
  return RecordOrSample(p, size);
}

// The sampler's countdown ran out, or the allocation is large, or every
// allocation is recorded, or this thread's sampler is not set up yet.
// Returns p; tail calls all the way (no frame of its own to set up).
__attribute__((noinline)) void* AllocSlow(void* p, size_t size) {
  if (UNLIKELY(!t_thread.sampler.initialized()) || UNLIKELY(!g_shim.recording) ||
      UNLIKELY(p == nullptr))
    return AllocUnusual(p, size);
  return RecordOrSample(p, size);
}

// The whole cost of an unsampled allocation: one compare and a countdown.
inline void OnAlloc(void* p, size_t size) {
  if (LIKELY(!t_thread.sampler.MaybeSample(size))) return;
  AllocSlow(p, size);
}

// malloc when MaybeSample said maybe (the countdown has been charged).
__attribute__((noinline)) void* MallocSlow(size_t size) {
  return AllocSlow(g_shim.hot_malloc.load(std::memory_order_acquire)(size), size);
}

// The page of p may hold a sampled pointer, or every free is recorded, or
// the shim is not initialized yet. True if the free must be recorded.
inline bool NoteFree(void* p) {
  if (!g_shim.recording) return false;
  if (g_shim.config.sample_interval <= 1) return true;
  if (!g_marks.MayHold(p) || !g_sampled.Erase(reinterpret_cast<uint64_t>(p))) return false;
  g_marks.Remove(p);
  return true;
}

inline void OnFree(void* p) {
  if (UNLIKELY(g_shim.every_free.load(std::memory_order_acquire)) || UNLIKELY(g_marks.MayHold(p))) {
    if (NoteFree(p)) RecordFree(p);
  }
}

// Before the real allocator is known (the very first call, and dlsym's own
// allocations while it is being resolved).
__attribute__((noinline)) const Allocator* SlowAllocator() {
  if (EnsureInitialized()) return &g_shim.alloc;
  return nullptr;  // inside the resolution: use the bootstrap arena
}

inline const Allocator* Alloc() {
  if (LIKELY(g_shim.ready.load(std::memory_order_acquire))) return &g_shim.alloc;
  return SlowAllocator();
}

__attribute__((noinline)) void FreeSlow(void* p) {
  if (UNLIKELY(p == nullptr) || UNLIKELY(InBootstrapArena(p))) return;
  const Allocator* a = Alloc();
  if (UNLIKELY(!a)) return;
  if (NoteFree(p)) RecordFree(p);
  a->free(p);
}

// One record of a mapping event (kMap with its frames, or kUnmap/kRemap),
// like RecordFreeSlow: there is no fast path, mappings are rare. The stack is
// unwound in full (the stack cache is the malloc path's: keyed by its frame).
__attribute__((noinline)) void RecordMappingEvent(EventKind kind, uint64_t a, uint64_t b,
                                                  uint64_t c = 0) {
  ThreadState& t = t_thread;
  // Inside the shim already: the shim's own libraries (libunwind's cache,
  // mimalloc's segments under the shim's work), or a signal handler's call
  // while this thread records (lost; not told apart, so not counted).
  if (t.busy || t.recording) return;
  if (kind == EventKind::kMap && t.paused) return;  // leakscope_pause(): as for malloc
  t.recording = true;
  std::atomic_signal_fence(std::memory_order_seq_cst);
  ThreadRing* r = t.ring ? t.ring : AttachThread(t);
  if (LIKELY(r != nullptr)) {
    uint64_t rec[kMaxRecordWords];
    size_t words;
    if (kind == EventKind::kMap) {
      // RuleWalk first, as CaptureStack's misses (V8 maps from JIT code too).
      auto own = [](uint64_t pc) { return InShim(pc); };
      uint64_t slots[kMaxFrames];
      uint32_t n =
          t.stack_hi ? RuleWalk(rec + kRecordHeaderWords, slots, own, t.stack_lo, t.stack_hi) : 0;
      if (n == 0) n = FastUnwind(rec + kRecordHeaderWords, own);
      words = kRecordHeaderWords + n;
      rec[0] = MakeHeader(kind, n, words);
    } else {
      words = kind == EventKind::kRemapEnd ? kRemapEndRecordWords : kUnmapRecordWords;
      rec[0] = MakeHeader(kind, 0, words);
      rec[4] = c;
    }
    rec[1] = EventTime();
    rec[2] = a;
    rec[3] = b;
    if (uint64_t* slot = r->ring.Reserve(words)) {
      std::memcpy(slot, rec, words * sizeof(uint64_t));
      r->last_time = rec[1];
      if (r->ring.Commit(words)) WakeIfHalfFull(r);
    } else if (Push(r, rec, words)) {
      r->last_time = rec[1];
    }
  }
  Leave(t);
}

}  // namespace

void PublishHotPath() {
  // The bootstrap arena is not heap memory: its frees must reach FreeSlow.
  static bool arena_marked = false;
  if (!arena_marked) {
    arena_marked = true;
    for (const char* c = g_bootstrap_arena; c < g_bootstrap_arena + sizeof g_bootstrap_arena;
         c += 4096)
      g_marks.Add(c);
    g_marks.Add(g_bootstrap_arena + sizeof g_bootstrap_arena - 1);
  }
  g_shim.hot_malloc.store(g_shim.alloc.malloc, std::memory_order_release);
  const bool every = g_shim.recording && g_shim.config.sample_interval <= 1;
  g_shim.every_free.store(every, std::memory_order_release);
}

bool IsShimCode(uint64_t pc) {
  return InShim(pc);
}

void RecordMap(void* p, size_t length) {
  if (g_shim.recording) RecordMappingEvent(EventKind::kMap, reinterpret_cast<uint64_t>(p), length);
}
void RecordUnmap(void* p, size_t length) {
  if (g_shim.recording)
    RecordMappingEvent(EventKind::kUnmap, reinterpret_cast<uint64_t>(p), length);
}
void RecordRemapBegin(void* old_p, size_t old_length, bool keep_old) {
  if (g_shim.recording)
    RecordMappingEvent(keep_old ? EventKind::kRemapBeginKeepOld : EventKind::kRemapBegin,
                       reinterpret_cast<uint64_t>(old_p), old_length);
}
void RecordRemapEnd(void* old_p, void* new_p, size_t new_length) {
  if (g_shim.recording)
    RecordMappingEvent(EventKind::kRemapEnd, reinterpret_cast<uint64_t>(old_p),
                       reinterpret_cast<uint64_t>(new_p), new_length);
}

void RecordExternalAlloc(void* p, size_t size) {
  OnAlloc(p, size);
}
void RecordExternalFree(void* p) {
  OnFree(p);
}

}  // namespace leakscope::preload

void* leakscope::preload::BootMalloc(size_t size) {
  const Allocator* a = Alloc();
  if (UNLIKELY(!a)) return BootstrapAlloc(size, 16);
  return a->malloc(size);
}

using namespace leakscope::preload;

extern "C" {

// The hot path. Unsampled, malloc is a compare and a countdown before a
// tail call to the real malloc (decided first, so nothing is kept across
// the call); free is one load of the page's mark before a tail call.
__attribute__((visibility("default"))) void* malloc(size_t size) {
  if (LIKELY(!t_thread.sampler.MaybeSample(size)))
    return g_shim.hot_malloc.load(std::memory_order_acquire)(size);
  return MallocSlow(size);
}

__attribute__((visibility("default"))) void free(void* p) {
  if (UNLIKELY(g_shim.every_free.load(std::memory_order_acquire)) || UNLIKELY(g_marks.MayHold(p)))
    return FreeSlow(p);
  g_shim.alloc.free(p);  // free(nullptr) included: the real free ignores it
}

__attribute__((visibility("default"))) void* calloc(size_t n, size_t size) {
  const Allocator* a = Alloc();
  if (UNLIKELY(!a)) {
    size_t total;
    if (__builtin_mul_overflow(n, size, &total)) return nullptr;
    return BootstrapAlloc(total, 16);  // static, hence zeroed, and never reused
  }
  void* p = a->calloc(n, size);
  if (p) OnAlloc(p, n * size);
  return p;
}

__attribute__((visibility("default"))) void* realloc(void* old, size_t size) {
  const Allocator* a = Alloc();
  if (UNLIKELY(!a) || UNLIKELY(old && InBootstrapArena(old))) {
    void* p = a ? a->malloc(size) : BootstrapAlloc(size, 16);
    if (p && old) std::memcpy(p, old, std::min(size, BootstrapUsableSize(old)));
    if (a) OnAlloc(p, size);
    return p;
  }
  if (!old) {
    void* p = a->malloc(size);
    OnAlloc(p, size);
    return p;
  }
  // Recorded as a free of `old`, before the call (the block may move and be
  // reused at once), and an allocation of the result after it.
  const size_t old_usable = (g_shim.recording && size) ? a->malloc_usable_size(old) : 0;
  OnFree(old);
  void* p = a->realloc(old, size);
  if (p) {
    OnAlloc(p, size);
  } else if (size) {
    OnAlloc(old, old_usable);  // failed: the old block lives on
  }
  return p;
}

__attribute__((visibility("default"))) void* reallocarray(void* old, size_t n, size_t size) {
  size_t total;
  if (__builtin_mul_overflow(n, size, &total)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(old, total);
}

__attribute__((visibility("default"))) int posix_memalign(void** out, size_t align, size_t size) {
  const Allocator* a = Alloc();
  if (UNLIKELY(!a)) {
    *out = BootstrapAlloc(size, align);
    return *out ? 0 : ENOMEM;
  }
  int rc = a->posix_memalign(out, align, size);
  if (rc == 0) OnAlloc(*out, size);
  return rc;
}

__attribute__((visibility("default"))) void* aligned_alloc(size_t align, size_t size) {
  const Allocator* a = Alloc();
  if (UNLIKELY(!a)) return BootstrapAlloc(size, align);
  void* p = a->aligned_alloc(align, size);
  OnAlloc(p, size);
  return p;
}

__attribute__((visibility("default"))) void* memalign(size_t align, size_t size) {
  const Allocator* a = Alloc();
  if (UNLIKELY(!a)) return BootstrapAlloc(size, align);
  void* p = a->memalign(align, size);
  OnAlloc(p, size);
  return p;
}

__attribute__((visibility("default"))) void* valloc(size_t size) {
  const Allocator* a = Alloc();
  if (UNLIKELY(!a)) return BootstrapAlloc(size, 4096);
  void* p = a->valloc(size);
  OnAlloc(p, size);
  return p;
}

__attribute__((visibility("default"))) void* pvalloc(size_t size) {
  const Allocator* a = Alloc();
  if (UNLIKELY(!a)) return BootstrapAlloc(size, 4096);
  void* p = a->pvalloc(size);
  OnAlloc(p, size);
  return p;
}

__attribute__((visibility("default"))) size_t malloc_usable_size(void* p) {
  if (!p) return 0;
  if (InBootstrapArena(p)) return BootstrapUsableSize(p);
  const Allocator* a = Alloc();
  return a ? a->malloc_usable_size(p) : 0;
}

}  // extern "C"
