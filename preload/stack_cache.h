// A per-thread cache of recent stacks, so that a call site hit again from the
// same stack does not pay for a libunwind walk (~150 instructions a frame).
//
// An entry remembers the stack pointer at capture, the return addresses, and
// the stack slot each return address was found in. It is reused only if the
// stack pointer is the same and every slot still holds its return address:
// the same call chain at the same depth, checked against the live stack.
// (A frame of variable size moves the slots of its callers, so the check
// fails and libunwind runs.) Slots are only read inside the thread's own stack
// bounds, so a stale entry can never fault.
#pragma once

#include <cstdint>
#include <cstring>

#include "event_record.h"

namespace leakscope::preload {

class StackCache {
 public:
  static constexpr int kEntries = 8;

  // An entry and its version, as a record carries it (event_record.h):
  // entry + 1 in bits 0-3 (0 = no reference), the version's low 28 bits
  // above. The version changes whenever the entry is stored again.
  static uint32_t MakeRef(uint32_t entry, uint32_t version) { return (entry + 1) | (version << 4); }
  static uint32_t RefEntry(uint32_t ref) { return (ref & 15) - 1; }

  // The reference of the cached stack for `sp` if it still matches the live
  // stack, else 0.
  uint32_t Lookup(uint64_t sp, uint64_t stack_hi) const {
    const int index = Index(sp);
    const Entry& e = entries_[index];
    if (e.sp != sp || e.frames == 0 || e.slots[e.frames - 1] >= stack_hi) return 0;
    for (uint32_t i = 0; i < e.frames; ++i)
      if (*reinterpret_cast<const uint64_t*>(e.slots[i]) != e.pcs[i]) return 0;
    return MakeRef(index, e.version);
  }
  uint32_t frames(uint32_t ref) const { return entries_[RefEntry(ref)].frames; }
  const uint64_t* pcs(uint32_t ref) const { return entries_[RefEntry(ref)].pcs; }

  // Remembers `pcs` as found from `sp`: each return address's slot is the next
  // word up the stack holding it. Returns the entry's new reference, or 0 if
  // a slot is missing (then nothing is cached).
  uint32_t Store(uint64_t sp, uint64_t stack_hi, const uint64_t* pcs, uint32_t frames) {
    const int index = Index(sp);
    Entry& e = entries_[index];
    e.frames = 0;
    ++e.version;
    const uint64_t* p = reinterpret_cast<const uint64_t*>(sp);
    const uint64_t* end = reinterpret_cast<const uint64_t*>(stack_hi & ~uint64_t{7});
    for (uint32_t i = 0; i < frames; ++i, ++p) {
      while (p < end && *p != pcs[i]) ++p;
      if (p >= end) return 0;
      e.slots[i] = reinterpret_cast<uint64_t>(p);
      e.pcs[i] = pcs[i];
    }
    e.sp = sp;
    e.frames = frames;
    return MakeRef(index, e.version);
  }

  // The record that stored `ref` was lost: the drain never saw these frames,
  // so the entry must not be referred to.
  void Forget(uint32_t ref) { entries_[RefEntry(ref)].frames = 0; }

 private:
  struct Entry {
    uint64_t sp = 0;
    uint32_t frames = 0;
    uint32_t version = 0;  // low 28 bits go into references
    uint64_t pcs[kMaxFrames];
    uint64_t slots[kMaxFrames];
  };
  static int Index(uint64_t sp) {
    return static_cast<int>((sp >> 4) ^ (sp >> 10)) & (kEntries - 1);
  }
  Entry entries_[kEntries];
};

}  // namespace leakscope::preload
