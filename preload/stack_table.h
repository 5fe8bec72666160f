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

namespace leakscope::preload {

class StackTable {
 public:
  explicit StackTable(size_t memory_budget_bytes = 8u << 20) : budget_(memory_budget_bytes) {}
  ~StackTable();
  StackTable(const StackTable&) = delete;
  StackTable& operator=(const StackTable&) = delete;

  // The id of `pcs[0..n)`; *is_new is set when the caller must send it.
  // Returns 0 only if memory ran out (the event is then sent without a stack).
  uint32_t Intern(const uint64_t* pcs, uint32_t n, bool* is_new);

  // Forgets every stack (a new stream starts: reconnect, fork).
  void Clear();

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
};

}  // namespace leakscope::preload
