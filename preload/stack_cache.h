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
#pragma once

#include <cstddef>
#include <cstdint>

#include "event_record.h"

namespace leakscope::preload {

class StackCache {
 public:
  static constexpr int kEntries = 8;

  // The cached stack for `sp` if it still matches the live stack, else 0.
  // Writes into `pcs` as it checks (one pass), even when it then says 0.
  uint32_t Lookup(uint64_t sp, uint64_t* pcs) const {
    const size_t e = Index(sp);
    if (sp_[e] != sp) return 0;
    const uint32_t frames = frames_[e];  // at least 1 (see Store)
    const Frame* f = frame_[e];
    uint32_t i = 0;
    do {
      const uint64_t pc = f[i].pc;
      if (*reinterpret_cast<const uint64_t*>(f[i].slot) != pc) return 0;
      pcs[i] = pc;
    } while (++i < frames);
    return frames;
  }

  // Remembers `pcs` (`frames` > 0) as found from `sp`, which must be inside
  // this thread's stack: each return address's slot is the next word up the
  // stack holding it. Gives up (caches nothing) if one is missing below
  // `stack_hi`.
  void Store(uint64_t sp, uint64_t stack_hi, const uint64_t* pcs, uint32_t frames) {
    const size_t e = Index(sp);
    sp_[e] = 0;  // no entry while it is rewritten
    const uint64_t* p = reinterpret_cast<const uint64_t*>(sp);
    const uint64_t* end = reinterpret_cast<const uint64_t*>(stack_hi & ~uint64_t{7});
    for (uint32_t i = 0; i < frames; ++i, ++p) {
      while (p < end && *p != pcs[i]) ++p;
      if (p >= end) return;  // sp_[e] stays 0: no entry
      frame_[e][i].slot = reinterpret_cast<uint64_t>(p);
      frame_[e][i].pc = pcs[i];
    }
    sp_[e] = sp;
    frames_[e] = frames;
  }

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
  // An entry e is sp_[e] (0: none), frames_[e], frame_[e] (apart: a
  // power-of-two stride).
  uint64_t sp_[kEntries];
  uint32_t frames_[kEntries];
  Frame frame_[kEntries][kMaxFrames];
};

}  // namespace leakscope::preload
