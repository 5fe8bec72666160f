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

#include <cstdint>

#include "event_record.h"

namespace leakscope::preload {

class StackCache {
 public:
  static constexpr int kEntries = 8;

  // The cached stack for `sp` if it still matches the live stack, else 0.
  // Writes into `pcs` as it checks (one pass), even when it then says 0.
  uint32_t Lookup(uint64_t sp, uint64_t* pcs) const {
    const Entry& e = entries_[Index(sp)];
    if (e.sp != sp) return 0;
    const uint32_t frames = e.frames;
    for (uint32_t i = 0; i < frames; ++i) {
      const uint64_t pc = e.frame[i].pc;
      if (*reinterpret_cast<const uint64_t*>(e.frame[i].slot) != pc) return 0;
      pcs[i] = pc;
    }
    return frames;
  }

  // Remembers `pcs` as found from `sp`, which must be inside this thread's
  // stack: each return address's slot is the next word up the stack holding
  // it. Gives up (caches nothing) if one is missing below `stack_hi`.
  void Store(uint64_t sp, uint64_t stack_hi, const uint64_t* pcs, uint32_t frames) {
    Entry& e = entries_[Index(sp)];
    e.frames = 0;
    const uint64_t* p = reinterpret_cast<const uint64_t*>(sp);
    const uint64_t* end = reinterpret_cast<const uint64_t*>(stack_hi & ~uint64_t{7});
    for (uint32_t i = 0; i < frames; ++i, ++p) {
      while (p < end && *p != pcs[i]) ++p;
      if (p >= end) return;
      e.frame[i].slot = reinterpret_cast<uint64_t>(p);
      e.frame[i].pc = pcs[i];
    }
    e.sp = sp;
    e.frames = frames;
  }

  // Forgets everything: the ring (and this cache) goes to another thread,
  // whose stack is elsewhere.
  void Clear() {
    for (Entry& e : entries_) {
      e.sp = 0;
      e.frames = 0;
    }
  }

 private:
  struct Entry {
    uint64_t sp;
    uint32_t frames;
    struct {
      uint64_t slot, pc;
    } frame[kMaxFrames];
  };
  static int Index(uint64_t sp) {
    return static_cast<int>((sp >> 4) ^ (sp >> 10)) & (kEntries - 1);
  }
  Entry entries_[kEntries];
};

}  // namespace leakscope::preload
