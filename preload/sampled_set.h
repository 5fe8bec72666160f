// Which live pointers were sampled, so that in sampled mode only their frees
// go into the ring (an unsampled free costs one probe here and nothing else).
//
// A fixed open-addressing table of addresses (0 = empty, 1 = deleted), shared
// by all threads, lock-free: insert and erase are single CASes. A key lives
// within kWindow slots of its home slot; an insert that finds no room there
// fails, and the allocation is then treated as unsampled (counted). That bound
// keeps every lookup to at most kWindow slots (two cache lines) however many
// deleted slots accumulate, and the table's memory is fixed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace leakscope::preload {

template <size_t kLogSlots>
class SampledSet {
 public:
  static constexpr size_t kSlots = size_t{1} << kLogSlots;
  static constexpr size_t kWindow = 16;

  bool Insert(uint64_t p) {
    const size_t home = Home(p);
    for (size_t i = 0; i < kWindow; ++i) {
      auto& s = slots_[(home + i) & (kSlots - 1)];
      uint64_t v = s.load(std::memory_order_relaxed);
      while (v <= kDeleted) {
        if (s.compare_exchange_weak(v, p, std::memory_order_relaxed)) return true;
      }
    }
    return false;
  }

  // Removes p if present; true if it was.
  bool Erase(uint64_t p) {
    const size_t home = Home(p);
    for (size_t i = 0; i < kWindow; ++i) {
      auto& s = slots_[(home + i) & (kSlots - 1)];
      uint64_t v = s.load(std::memory_order_relaxed);
      if (v == kEmpty) return false;  // keys never sit past an empty slot
      if (v == p) return s.compare_exchange_strong(v, kDeleted, std::memory_order_relaxed);
    }
    return false;
  }

  static size_t HomeForTest(uint64_t p) { return Home(p); }

  bool Contains(uint64_t p) const {
    const size_t home = Home(p);
    for (size_t i = 0; i < kWindow; ++i) {
      uint64_t v = slots_[(home + i) & (kSlots - 1)].load(std::memory_order_relaxed);
      if (v == kEmpty) return false;
      if (v == p) return true;
    }
    return false;
  }

 private:
  static constexpr uint64_t kEmpty = 0, kDeleted = 1;
  // All addresses of one 4 KiB page share a home line, so the probes of an
  // unsampled free follow the program's own locality and mostly hit L1
  // (hashing each address apart made every free a cache miss: 2.5x slower).
  static size_t Home(uint64_t p) {
    const uint64_t line = ((p >> 12) * 0x9E3779B97F4A7C15ull) >> (64 - kLogSlots);
    return static_cast<size_t>(line) & ~size_t{7};  // 8 slots = one cache line
  }
  alignas(64) std::atomic<uint64_t> slots_[kSlots] = {};
};

}  // namespace leakscope::preload
