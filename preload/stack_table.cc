#include "stack_table.h"

#include <cstring>

#include "shim_memory.h"

namespace leakscope::preload {

StackTable::~StackTable() {
  ShimFree(slots_);
  ShimFree(pcs_);
}

uint64_t StackTable::Hash(const uint64_t* pcs, uint32_t n) {
  // Multiply-xorshift per word: cheap, and return addresses differ in low
  // bits, which the final mix spreads over the whole word. Two independent
  // chains (even and odd frames) halve the latency of a deep stack.
  uint64_t a = 0x9E3779B97F4A7C15ull ^ n, b = 0x94D049BB133111EBull;
  uint32_t i = 0;
  for (; i + 1 < n; i += 2) {
    a = (a ^ pcs[i]) * 0xBF58476D1CE4E5B9ull;
    b = (b ^ pcs[i + 1]) * 0xBF58476D1CE4E5B9ull;
    a ^= a >> 31;
    b ^= b >> 31;
  }
  if (i < n) {
    a = (a ^ pcs[i]) * 0xBF58476D1CE4E5B9ull;
    a ^= a >> 31;
  }
  uint64_t h = (a ^ (b >> 1)) * 0x94D049BB133111EBull;
  return h ^ (h >> 29);
}

bool StackTable::Equal(const Slot& s, const uint64_t* pcs, uint32_t n) const {
  return s.frames == n && std::memcmp(pcs_ + s.offset, pcs, n * sizeof(uint64_t)) == 0;
}

size_t StackTable::memory_bytes() const {
  return (slots_ ? (mask_ + 1) * sizeof(Slot) : 0) + pcs_cap_ * sizeof(uint64_t);
}

void StackTable::Clear() {
  ++epoch_;
  if (slots_) std::memset(slots_, 0, (mask_ + 1) * sizeof(Slot));
  std::memset(recent_, 0, sizeof recent_);
  used_ = 0;
  pcs_size_ = 0;
}

bool StackTable::Prepare() {
  if (!slots_ && !Grow()) return false;
  if (pcs_cap_ == 0) {
    auto* p = static_cast<uint64_t*>(ShimAlloc(kInitialPcs * sizeof(uint64_t)));
    if (!p) return false;
    pcs_ = p;
    pcs_cap_ = kInitialPcs;
  }
  return true;
}

bool StackTable::Grow() {
  size_t cap = slots_ ? (mask_ + 1) * 2 : 4096;
  Slot* slots = static_cast<Slot*>(ShimAlloc(cap * sizeof(Slot)));
  if (!slots) return false;
  std::memset(slots, 0, cap * sizeof(Slot));
  for (size_t i = 0; slots_ && i <= mask_; ++i) {
    if (!slots_[i].id) continue;
    size_t j = slots_[i].hash & (cap - 1);
    while (slots[j].id) j = (j + 1) & (cap - 1);
    slots[j] = slots_[i];
  }
  ShimFree(slots_);
  slots_ = slots;
  mask_ = cap - 1;
  return true;
}

bool StackTable::Full(uint32_t n) const {
  // Growing (doubling) either array must stay within the budget.
  const size_t slot_bytes = (mask_ + 1) * sizeof(Slot);
  const size_t pc_bytes = pcs_cap_ * sizeof(uint64_t);
  const bool grow_slots = (used_ + 1) * 4 > (mask_ + 1) * 3;
  const bool grow_pcs = pcs_size_ + n > pcs_cap_;
  return (grow_slots && 2 * slot_bytes + pc_bytes > budget_) ||
         (grow_pcs && slot_bytes + 2 * pc_bytes > budget_);
}

uint32_t StackTable::Insert(uint64_t h, const uint64_t* pcs, uint32_t n) {
  if ((used_ + 1) * 4 > (mask_ + 1) * 3 && !Grow()) return 0;  // keep load below 3/4
  if (pcs_size_ + n > pcs_cap_) {
    size_t cap = pcs_cap_ ? pcs_cap_ * 2 : kInitialPcs;
    while (cap < pcs_size_ + n) cap *= 2;
    auto* p = static_cast<uint64_t*>(ShimRealloc(pcs_, cap * sizeof(uint64_t)));
    if (!p) return 0;
    pcs_ = p;
    pcs_cap_ = cap;
  }
  size_t i = h & mask_;
  while (slots_[i].id) i = (i + 1) & mask_;
  std::memcpy(pcs_ + pcs_size_, pcs, n * sizeof(uint64_t));
  slots_[i] = Slot{h, pcs_size_, next_id_++, n};
  pcs_size_ += n;
  ++used_;
  return slots_[i].id;
}

uint32_t StackTable::InternSlow(const uint64_t* pcs, uint32_t n, bool* is_new) {
  if (!slots_ && !Grow()) return 0;
  const uint64_t h = Hash(pcs, n);
  size_t i = h & mask_;
  for (; slots_[i].id; i = (i + 1) & mask_) {
    if (slots_[i].hash == h && Equal(slots_[i], pcs, n)) break;
  }
  uint32_t id = slots_[i].id;
  if (!id) {
    if (Full(n)) Clear();
    id = Insert(h, pcs, n);
    *is_new = id != 0;
    if (!id) return 0;
  }
  // Insert may have cleared the table (and recent_) or moved slots: look
  // the stack's offset up by what does not move.
  const uint64_t offset = *is_new ? pcs_size_ - n : slots_[i].offset;
  recent_[RecentIndex(pcs, n)] = Recent{n ? pcs[0] : 0, offset, id, n};
  return id;
}

}  // namespace leakscope::preload
