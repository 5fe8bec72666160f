// The recording path's unwinding: the program's stack when the thread's
// stack cache (stack_cache.h) does not have it, and what the cache keeps.
//
// Two walks. unw_backtrace (libunwind's per-IP fast trace, ~150
// instructions a frame) gives every miss its return addresses, but not
// where on the stack each was read from. An entry of the cache needs those
// slots exactly, and only a walk that computes each frame's CFA knows them:
// a return address lives at the CFA of the frame it returns from, minus 8
// (x86-64). That walk is libgcc's unwinder, linked into the shim static and
// hidden (libunwind.so exports the same _Unwind_* names; its unw_step takes
// a lock and makes two sigprocmask calls a frame): no lock, no syscall
// (glibc's _dl_find_object finds the unwind tables), no allocation, but it
// parses the unwind tables at every frame, ~10x the fast trace. So it runs
// only to store an entry, when StackCache::WorthStoring says so.
//
// Except on a thread's first kFullWalks misses: libunwind's fast trace keeps a
// cache per thread, made at the thread's first call (256 KiB mmap'd and
// written whole: 64 page faults) and unmapped at its end. A thread that
// records few stacks (500 short allocating threads, each a few misses before
// its stack cache serves it; sampled mode, about one stack per 512 KiB) paid
// more for that cache than for all the rest of its recording. So those first
// misses walk with libgcc's unwinder alone, pcs and slots at once (FullWalk);
// a walk that cannot vouch for the whole stack (a signal frame, a frame
// without unwind tables) falls back to the fast trace.
#pragma once

#define UNW_LOCAL_ONLY  // the _UL* functions: this process only, no remote code
#include <libunwind.h>
#include <unwind.h>

#include <cstdint>
#include <cstring>

#include "event_record.h"
#include "frame_walk.h"
#include "loader_probe.h"
#include "stack_cache.h"

namespace leakscope::preload {

// Return addresses of the calling chain into pcs (kMaxFrames words),
// innermost first, without the leading frames `own(pc)` says are the
// caller's own (the shim's).
template <class Own>
inline uint32_t FastUnwind(uint64_t* pcs, Own own) {
  int n = unw_backtrace(reinterpret_cast<void**>(pcs), kMaxFrames);
  int skip = 0;
  while (skip < n && own(pcs[skip])) ++skip;
  if (skip) std::memmove(pcs, pcs + skip, (n - skip) * sizeof(uint64_t));
  return n > skip ? static_cast<uint32_t>(n - skip) : 0;
}

// FastUnwind's frames and their slots in one walk of frame_walk.h's (cached
// rules a pc, frames without unwind tables by their frame pointer), on a
// stack within [stack_lo, stack_hi); 0 if it cannot vouch that they are the
// whole stack (a signal frame, rules it does not follow, a read off the
// stack, an unknown stack).
template <class Own>
__attribute__((noinline)) uint32_t RuleWalk(uint64_t* pcs, uint64_t* slots, Own own,
                                            uint64_t stack_lo, uint64_t stack_hi) {
  // This function's frame, by its frame pointer (__builtin_frame_address
  // makes it keep one): its caller's return address is just above.
  const uint64_t* frame = static_cast<const uint64_t*>(__builtin_frame_address(0));
  const uint64_t at = reinterpret_cast<uint64_t>(frame);
  if (at < stack_lo || at + 16 > stack_hi) return 0;
  frame_walk::Regs r{reinterpret_cast<uint64_t>(__builtin_return_address(0)), at + 16, frame[0],
                     true};
  if (frame[1] != r.pc) return 0;
  uint64_t slot = at + 8;
  uint32_t raw = 0, n = 0;
  for (;;) {
    ++raw;
    if (n || !own(r.pc)) {
      pcs[n] = r.pc;
      slots[n] = slot;
      ++n;
    }
    if (raw == kMaxFrames) return n;
    const frame_walk::Step step = frame_walk::CachedStep(r, stack_hi, &slot);
    if (step == frame_walk::Step::kEnd) return n;
    if (step == frame_walk::Step::kGiveUp) return 0;
    if (r.pc == 0) return n;  // past the outermost frame
  }
}

// Misses per thread that FullWalk serves before the fast trace takes over: a
// walk costs ~10x the fast trace's, the fast trace's cache ~30 walks.
inline constexpr uint32_t kFullWalks = 32;

template <class Own>
struct FullWalkState {
  uint64_t* pcs;
  uint64_t* slots;
  Own own;
  uint32_t raw = 0;   // frames walked, the caller's own too (unw_backtrace's count)
  uint32_t n = 0;     // frames kept
  bool first = true;  // FullWalk's own frame
  bool signal = false;
};

template <class Own>
_Unwind_Reason_Code FullStep(_Unwind_Context* context, void* arg) {
  FullWalkState<Own>& w = *static_cast<FullWalkState<Own>*>(arg);
  if (w.first) {
    w.first = false;
    return _URC_NO_REASON;
  }
  int signal_frame;
  const uint64_t pc = _Unwind_GetIPInfo(context, &signal_frame);
  if (signal_frame) {
    w.signal = true;
    return _URC_END_OF_STACK;
  }
  if (pc == 0) return _URC_END_OF_STACK;  // past the outermost frame
  ++w.raw;
  if (w.n || !w.own(pc)) {
    w.pcs[w.n] = pc;
    w.slots[w.n] = _Unwind_GetCFA(context) - 8;  // as in SlotStep
    ++w.n;
  }
  return w.raw < kMaxFrames ? _URC_NO_REASON : _URC_END_OF_STACK;
}

// FastUnwind's frames and their slots in one walk of libgcc's unwinder; 0 if
// it cannot vouch that they are the whole stack (a signal frame, or a walk
// that ended at a frame without unwind tables, such as JIT code, which the
// fast trace follows by its frame pointer).
template <class Own>
__attribute__((noinline)) uint32_t FullWalk(uint64_t* pcs, uint64_t* slots, Own own) {
  FullWalkState<Own> w{pcs, slots, own};
  _Unwind_Backtrace(FullStep<Own>, &w);
  if (w.signal || w.n == 0) return 0;
  DwarfEhBases bases;
  // Ended early: the last frame's tables said it is the outermost one, or
  // it has none.
  if (w.raw < kMaxFrames && !_Unwind_Find_FDE(reinterpret_cast<void*>(pcs[w.n - 1] - 1), &bases))
    return 0;
  return w.n;
}

// FindSlots' walk: one call per frame, innermost first.
template <class Own>
struct SlotWalk {
  const uint64_t* pcs;
  uint32_t n;
  uint64_t* slots;
  Own own;
  uint32_t i = 0;
  bool first = true;  // FindSlots' own frame
  bool done = false;
};

template <class Own>
_Unwind_Reason_Code SlotStep(_Unwind_Context* context, void* arg) {
  SlotWalk<Own>& w = *static_cast<SlotWalk<Own>*>(arg);
  if (w.first) {
    w.first = false;
    return _URC_NO_REASON;
  }
  int signal_frame;  // the pc was interrupted: it comes from the signal context, no slot
  const uint64_t pc = _Unwind_GetIPInfo(context, &signal_frame);
  if (signal_frame) return _URC_END_OF_STACK;
  if (w.i == 0 && w.own(pc)) return _URC_NO_REASON;
  if (pc != w.pcs[w.i]) return _URC_END_OF_STACK;
  // libgcc's "CFA" of a frame is the CFA of the frame it returned from
  // (its stack pointer after the return): the return address is just below.
  w.slots[w.i] = _Unwind_GetCFA(context) - 8;
  if (++w.i < w.n) return _URC_NO_REASON;
  w.done = true;
  return _URC_END_OF_STACK;
}

// The slot each of `pcs` (FastUnwind's `n` frames, taken just before in the
// same function) was read from. False unless the walk finds those frames,
// in order, below any signal frame: a frame without unwind tables (JIT code,
// which the fast trace follows by its frame pointer) ends libgcc's walk, so
// such a chain is not cached.
template <class Own>
__attribute__((noinline)) bool FindSlots(const uint64_t* pcs, uint32_t n, uint64_t* slots,
                                         Own own) {
  SlotWalk<Own> w{pcs, n, slots, own};
  _Unwind_Backtrace(SlotStep<Own>, &w);
  return w.done;
}

// The stack of a call that missed the cache at frame `sp` (the same for
// every call from one call path) into pcs; returns its frame count and sets
// *ref to the cache entry the frames now are (0: none). `full_walks` counts
// the thread's FullWalks.
template <class Own>
inline uint32_t UnwindAndCache(StackCache& cache, uint64_t sp, uint64_t stack_lo, uint64_t stack_hi,
                               uint64_t* pcs, uint32_t* ref, uint32_t* full_walks, Own own) {
  *ref = 0;
  // On a known stack, frame_walk.h's walk first: ~the fast trace's cost with
  // the slots, and it crosses frames without tables (JIT code), where the
  // fast trace takes libunwind's slow path (~100 us a stack). No lock, no
  // dl_iterate_phdr: also in a forked child whose loader lock is suspect.
  if (stack_hi) {
    uint64_t slots[kMaxFrames];
    if (const uint32_t n = RuleWalk(pcs, slots, own, stack_lo, stack_hi)) {
      if (sp >= stack_lo && sp < stack_hi && cache.WorthStoring(sp, pcs, n))
        *ref = cache.Store(sp, stack_hi, pcs, slots, n);
      return n;
    }
  }
  // A forked child whose loader lock may be held for good: the fast trace
  // looks its tables up with dl_iterate_phdr (loader_probe.h), FullWalk with
  // _dl_find_object. A stack FullWalk cannot vouch for is then left empty.
  const bool loader_suspect = LoaderMayBeHeld();
  if (*full_walks < kFullWalks || loader_suspect) {
    if (*full_walks < kFullWalks) ++*full_walks;
    uint64_t slots[kMaxFrames];
    if (const uint32_t n = FullWalk(pcs, slots, own)) {
      if (sp >= stack_lo && sp < stack_hi && cache.WorthStoring(sp, pcs, n))
        *ref = cache.Store(sp, stack_hi, pcs, slots, n);
      return n;
    }
    if (loader_suspect) return 0;
  }
  const uint32_t n = FastUnwind(pcs, own);
  if (n && sp >= stack_lo && sp < stack_hi && cache.WorthStoring(sp, pcs, n)) {
    uint64_t slots[kMaxFrames];
    if (FindSlots(pcs, n, slots, own)) {
      *ref = cache.Store(sp, stack_hi, pcs, slots, n);
    } else {
      cache.Unstorable(sp);
    }
  }
  return n;
}

}  // namespace leakscope::preload
