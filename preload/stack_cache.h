// A per-thread cache of recent stacks, so that a call site hit again from the
// same stack does not pay for a libunwind walk (~150 instructions a frame).
//
// An entry remembers the stack pointer at capture, the return addresses, and
// the stack slot each return address lives in, as the unwinder found it (the
// CFA of the frame it returns from, minus 8: stack_unwind.h). It is reused only if
// the stack pointer is the same and every slot still holds its return
// address: the same call chain at the same depth, checked against the live
// stack. The slots are the frames' own, so a copy of a return address left
// elsewhere on the stack (a spilled function pointer, a dead frame) never
// stands in for one: a chain that differs from the entry's differs in a slot.
// (A frame of variable size, alloca or a realigned stack, moves the slots of
// its callers: the check fails unless the old slots still hold exactly the
// old return addresses, one by one.) An entry is only stored from a stack
// pointer inside the owning thread's stack, with every slot between it and
// the stack's top, and the cache is cleared when its ring changes owner: so
// a lookup from the same stack pointer reads only that thread's live stack,
// and a stale entry can never fault.
//
// Finding the slots takes a second walk, ~10x the fast trace that gives
// return addresses alone (stack_unwind.h), so storing is decided
// (WorthStoring): a chain seen once costs the fast trace alone, and two
// chains taking turns at one stack pointer do not pay a walk per turn.
//
// A hit is not copied into the record: the record refers to the entry by a
// reference (entry and version, event_record.h), and the drain thread has
// the frames from the record that stored the entry (ThreadRing::mirror).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "event_record.h"

namespace leakscope::preload {

class StackCache {
 public:
  static constexpr int kEntries = 8;

  // A reference as records carry it: entry + 1 in bits 0-3 (0 = none), the
  // entry's version in the 28 bits above. Every store makes a new version.
  static uint32_t MakeRef(size_t entry, uint32_t version) {
    return static_cast<uint32_t>(entry + 1) | (version << 4);
  }
  static uint32_t RefEntry(uint32_t ref) { return (ref & 15) - 1; }

  StackCache() { Clear(); }

  // The reference of the cached stack for `sp` if it still matches the live
  // stack, else 0.
  uint32_t Lookup(uint64_t sp) {
    const size_t e = Index(sp);
    if (sp_[e] != sp) return 0;
    const uint32_t frames = frames_[e];  // at least 1 (see Store)
    const Frame* f = frame_[e];
    uint32_t i = 0;
    do {
      if (*reinterpret_cast<const uint64_t*>(f[i].slot) != f[i].pc) return 0;
    } while (++i < frames);
    ++hits_[e];  // for WorthStoring
    return MakeRef(e, version_[e]);
  }
  uint32_t frames(uint32_t ref) const { return frames_[RefEntry(ref)]; }
  uint64_t pc(uint32_t ref, uint32_t i) const { return frame_[RefEntry(ref)][i].pc; }

  // After a miss at `sp` whose stack is `pcs`: whether to find its slots and
  // store it. Only a chain that missed twice in a row at the entry, once the
  // entry's misses less the hits of the chain it holds reach need_ (2 at
  // first). Replacing a chain that got fewer than kPaidHits hits, about
  // twice what a walk costs, doubles need_ (two chains taking turns at one
  // stack pointer: the one stored keeps its hits, the other pays misses
  // only); replacing one that paid halves it. A few instructions a frame.
  bool WorthStoring(uint64_t sp, const uint64_t* pcs, uint32_t frames) {
    uint64_t h = sp ^ frames;
    for (uint32_t i = 0; i < frames; ++i) h = (h ^ pcs[i]) * 0x9E3779B97F4A7C15ull;
    const size_t e = Index(sp);
    const uint32_t new_hits = hits_[e] - hits_seen_[e];
    hits_seen_[e] = hits_[e];
    credit_[e] = (credit_[e] > new_hits ? credit_[e] - new_hits : 0) + 1;
    const bool again = seen_[e] == h;
    seen_[e] = h;
    if (!again || credit_[e] < need_[e]) return false;
    if (sp_[e] != 0) {
      need_[e] = hits_[e] < kPaidHits ? std::min(need_[e] * 2, kMaxNeed)
                                      : std::max(need_[e] / 2, kMinNeed);
      if (credit_[e] < need_[e]) return false;
    }
    return true;
  }

  // WorthStoring said yes but the slots were not found (a signal frame, an
  // unwinder that disagrees): try that entry less often.
  void Unstorable(uint64_t sp) { Backoff(Index(sp)); }

  // Remembers `pcs` (`frames` > 0) as found from `sp`, which must be inside
  // this thread's stack, with `slots[i]` the stack address pcs[i] was read
  // from. Returns the entry's new reference, or 0 (nothing cached) unless
  // each slot is above the previous one (the first above `sp`), below
  // `stack_hi`, and holds its return address.
  uint32_t Store(uint64_t sp, uint64_t stack_hi, const uint64_t* pcs, const uint64_t* slots,
                 uint32_t frames) {
    const size_t e = Index(sp);
    sp_[e] = 0;  // no entry while it is rewritten
    ++version_[e];
    hits_[e] = hits_seen_[e] = 0;
    uint64_t above = sp;
    for (uint32_t i = 0; i < frames; ++i) {
      const uint64_t slot = slots[i];
      if (slot < above || slot > stack_hi - 8 || (slot & 7) ||
          *reinterpret_cast<const uint64_t*>(slot) != pcs[i]) {
        Backoff(e);
        return 0;  // sp_[e] stays 0: no entry
      }
      frame_[e][i].slot = slot;
      frame_[e][i].pc = pcs[i];
      above = slot + 8;
    }
    sp_[e] = sp;
    frames_[e] = frames;
    credit_[e] = 0;
    seen_[e] = 0;
    return MakeRef(e, version_[e]);
  }

  // The record that stored `ref` was lost: the drain never saw these frames,
  // so nothing may refer to the entry.
  void Forget(uint32_t ref) { sp_[RefEntry(ref)] = 0; }

  // Forgets everything: the ring (and this cache) goes to another thread,
  // whose stack is elsewhere.
  void Clear() {
    for (size_t e = 0; e < kEntries; ++e) {
      sp_[e] = seen_[e] = 0;
      hits_[e] = hits_seen_[e] = credit_[e] = 0;
      need_[e] = kMinNeed;
    }
  }

  static constexpr uint32_t kMinNeed = 2, kMaxNeed = 256;
  // A walk for slots costs about as much as 14 misses more than hits
  // (bench/switching_chains under callgrind); twice that.
  static constexpr uint32_t kPaidHits = 28;

 private:
  struct Frame {
    uint64_t slot, pc;  // side by side: one pointer walks both
  };
  static size_t Index(uint64_t sp) { return ((sp >> 4) ^ (sp >> 10)) & (kEntries - 1); }
  void Backoff(size_t e) {
    need_[e] = std::min(need_[e] * 2, kMaxNeed);
    credit_[e] = 0;
  }
  // An entry e is sp_[e] (0: none), frames_[e], version_[e], hits_[e] (since
  // stored), frame_[e] (apart: a power-of-two stride), and what decides
  // storing: seen_[e] (the last miss's chain), hits_seen_[e] (hits_[e] then),
  // credit_[e], need_[e].
  uint64_t sp_[kEntries] = {};
  uint32_t frames_[kEntries] = {};
  uint32_t version_[kEntries] = {};
  uint32_t hits_[kEntries] = {};
  uint64_t seen_[kEntries] = {};
  uint32_t hits_seen_[kEntries] = {}, credit_[kEntries] = {}, need_[kEntries] = {};
  Frame frame_[kEntries][kMaxFrames];
};

}  // namespace leakscope::preload
