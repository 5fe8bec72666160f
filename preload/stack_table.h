// Stack deduplication on the drain thread: each distinct stack gets an id and
// is sent to the collector once; events then carry only the id.
//
// Open addressing with linear probing over (hash, id, frames, offset) slots;
// the return addresses live in one growing array. When the table's memory
// passes its budget it is cleared: ids keep increasing, so the collector, which
// keeps every stack it was sent, never sees an id reused, and a stack seen
// again is simply sent again. Single-threaded by design (drain thread only).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace leakscope::preload {

class StackTable {
 public:
  explicit StackTable(size_t memory_budget_bytes = 8u << 20) : budget_(memory_budget_bytes) {}
  ~StackTable();
  StackTable(const StackTable&) = delete;
  StackTable& operator=(const StackTable&) = delete;

  // The id of `pcs[0..n)`; *is_new is set when the caller must send it.
  // Returns 0 only if memory ran out (the event is then sent without a stack).
  uint32_t Intern(const uint64_t* pcs, uint32_t n, bool* is_new) {
    // Inline: the usual case is a stack seen just before (see Recent).
    const Recent& r = recent_[RecentIndex(pcs, n)];
    *is_new = false;
    if (r.id && r.frames == n && r.pc0 == (n ? pcs[0] : 0) && SamePcs(pcs_ + r.offset, pcs, n))
      return r.id;
    return InternSlow(pcs, n, is_new);
  }

  // Forgets every stack (a new stream starts: reconnect, fork).
  void Clear();
  // Changes at every Clear(): an id remembered under another epoch must be
  // interned again.
  uint32_t epoch() const { return epoch_; }

  // Allocates the table's first memory now rather than at the first stack
  // (drain.cc StartDrain: a process may reach its memory limit before that).
  bool Prepare();

  size_t size() const { return used_; }
  size_t memory_bytes() const;

  static uint64_t Hash(const uint64_t* pcs, uint32_t n);

 private:
  struct Slot {
    uint64_t hash;
    uint64_t offset;  // into pcs_
    uint32_t id;      // 0 = empty
    uint32_t frames;
  };
  // Stacks interned lately, by innermost return address and depth: a program
  // allocates from a few sites over and over, and one memcmp of the stack
  // costs far less than hashing it (a serial multiply chain per frame).
  struct Recent {
    uint64_t pc0;
    uint64_t offset;  // into pcs_
    uint32_t id;      // 0 = empty
    uint32_t frames;
  };
  static constexpr size_t kRecent = 64;
  static constexpr size_t kInitialPcs = 16384;
  static size_t RecentIndex(const uint64_t* pcs, uint32_t n) {
    const uint64_t pc0 = n ? pcs[0] : 0;
    return ((pc0 ^ (pc0 >> 12) ^ n) * 0x9E3779B97F4A7C15ull) >> (64 - 6);
  }
  static bool SamePcs(const uint64_t* a, const uint64_t* b, uint32_t n) {
    if (n > 8) return std::memcmp(a, b, n * sizeof(uint64_t)) == 0;
    for (uint32_t i = 0; i < n; ++i)
      if (a[i] != b[i]) return false;
    return true;
  }
  uint32_t InternSlow(const uint64_t* pcs, uint32_t n, bool* is_new);
  bool Grow();
  bool Full(uint32_t n) const;
  uint32_t Insert(uint64_t hash, const uint64_t* pcs, uint32_t n);
  bool Equal(const Slot& s, const uint64_t* pcs, uint32_t n) const;

  size_t budget_;
  Slot* slots_ = nullptr;
  size_t mask_ = 0;  // capacity - 1
  size_t used_ = 0;
  uint64_t* pcs_ = nullptr;
  size_t pcs_size_ = 0;
  size_t pcs_cap_ = 0;
  uint32_t next_id_ = 1;
  uint32_t epoch_ = 1;
  Recent recent_[kRecent] = {};
};

}  // namespace leakscope::preload
