// A per-thread cache of recent stacks, so that a call site hit again from the
// same stack does not pay for a libunwind walk (~150 instructions a frame).
//
// An entry remembers the stack pointer at capture, the return addresses, and
// the stack slot each return address was found in. It is reused only if the
// stack pointer is the same and every slot still holds its return address:
// the same call chain at the same depth, checked against the live stack.
// (A frame of variable size moves the slots of its callers, so the check
// fails and libunwind runs.) An entry is only stored from a stack pointer
// inside the owning thread's stack, with every slot between it and the
// stack's top, and the cache is cleared when its ring changes owner: so a
// lookup from the same stack pointer reads only that thread's live stack, and
// a stale entry can never fault.
//
// A hit is not copied into the record: the record refers to the entry by a
// reference (entry and version, event_record.h), and the drain thread has
// the frames from the record that stored the entry (ThreadRing::mirror).
#pragma once

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

  // The reference of the cached stack for `sp` if it still matches the live
  // stack, else 0.
  uint32_t Lookup(uint64_t sp) const {
    const size_t e = Index(sp);
    if (sp_[e] != sp) return 0;
    const uint32_t frames = frames_[e];  // at least 1 (see Store)
    const Frame* f = frame_[e];
    uint32_t i = 0;
    do {
      if (*reinterpret_cast<const uint64_t*>(f[i].slot) != f[i].pc) return 0;
    } while (++i < frames);
    return MakeRef(e, version_[e]);
  }
  uint32_t frames(uint32_t ref) const { return frames_[RefEntry(ref)]; }
  uint64_t pc(uint32_t ref, uint32_t i) const { return frame_[RefEntry(ref)][i].pc; }

  // Remembers `pcs` (`frames` > 0) as found from `sp`, which must be inside
  // this thread's stack: each return address's slot is the next word up the
  // stack holding it. Returns the entry's new reference, or 0 (nothing
  // cached) if one is missing below `stack_hi`.
  uint32_t Store(uint64_t sp, uint64_t stack_hi, const uint64_t* pcs, uint32_t frames) {
    const size_t e = Index(sp);
    sp_[e] = 0;  // no entry while it is rewritten
    ++version_[e];
    const uint64_t* p = reinterpret_cast<const uint64_t*>(sp);
    const uint64_t* end = reinterpret_cast<const uint64_t*>(stack_hi & ~uint64_t{7});
    for (uint32_t i = 0; i < frames; ++i, ++p) {
      while (p < end && *p != pcs[i]) ++p;
      if (p >= end) return 0;  // sp_[e] stays 0: no entry
      frame_[e][i].slot = reinterpret_cast<uint64_t>(p);
      frame_[e][i].pc = pcs[i];
    }
    sp_[e] = sp;
    frames_[e] = frames;
    return MakeRef(e, version_[e]);
  }

  // The record that stored `ref` was lost: the drain never saw these frames,
  // so nothing may refer to the entry.
  void Forget(uint32_t ref) { sp_[RefEntry(ref)] = 0; }

  // Forgets everything: the ring (and this cache) goes to another thread,
  // whose stack is elsewhere.
  void Clear() {
    for (uint64_t& sp : sp_) sp = 0;
  }

 private:
  struct Frame {
    uint64_t slot, pc;  // side by side: one pointer walks both
  };
  static size_t Index(uint64_t sp) { return ((sp >> 4) ^ (sp >> 10)) & (kEntries - 1); }
  // An entry e is sp_[e] (0: none), frames_[e], version_[e], frame_[e]
  // (apart: a power-of-two stride).
  uint64_t sp_[kEntries] = {};
  uint32_t frames_[kEntries] = {};
  uint32_t version_[kEntries] = {};
  Frame frame_[kEntries][kMaxFrames];
};

}  // namespace leakscope::preload
