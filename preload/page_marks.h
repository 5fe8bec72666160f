// Which pages may hold a pointer whose free the shim must see: the filter in
// front of the sampled set (sampled_set.h), read by every free in sampled mode.
//
// A counting filter: one 16-bit count per page number modulo 2^16 (pages
// 256 MiB apart share a count). A sampled allocation adds one to its page's
// count before it is returned to the program and removes it after its free
// was recorded, so a zero proves "no sampled pointer on this page": the free
// of an unsampled pointer is a shift, a mask and one load. Consecutive pages
// share cache lines, following the program's own locality. A count that
// reaches its maximum sticks there (a free there then always probes the set:
// slower, never wrong). 128 KiB, fixed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace leakscope::preload {

class PageMarks {
 public:
  static constexpr size_t kLogEntries = 16;
  static constexpr size_t kEntries = size_t{1} << kLogEntries;
  static constexpr uint16_t kStuck = 0xFFFF;

  bool MayHold(const void* p) const {
    return counts_[Index(p)].load(std::memory_order_relaxed) != 0;
  }

  void Add(const void* p) {
    auto& c = counts_[Index(p)];
    uint16_t v = c.load(std::memory_order_relaxed);
    while (v != kStuck && !c.compare_exchange_weak(v, uint16_t(v + 1), std::memory_order_relaxed)) {
    }
  }

  void Remove(const void* p) {
    auto& c = counts_[Index(p)];
    uint16_t v = c.load(std::memory_order_relaxed);
    while (v != kStuck && v != 0 &&
           !c.compare_exchange_weak(v, uint16_t(v - 1), std::memory_order_relaxed)) {
    }
  }

  uint16_t CountForTest(const void* p) const { return counts_[Index(p)].load(); }

 private:
  static size_t Index(const void* p) {
    return (reinterpret_cast<uintptr_t>(p) >> 12) & (kEntries - 1);
  }

  alignas(64) std::atomic<uint16_t> counts_[kEntries] = {};
};

}  // namespace leakscope::preload
