// Which live pointers were sampled, so that in sampled mode only their frees
// go into the ring (an unsampled free costs one cache-line probe here).
//
// A fixed open-addressing table of addresses (0 = empty, 1 = deleted), shared
// by all threads, lock-free: insert and erase are single CASes. A key lives in
// its primary line (8 slots, chosen by its 4 KiB page) or, when that line is
// full of live keys, in a secondary window (16 slots, chosen by the address
// itself). Slots never become empty again, so a primary line that shows an
// empty slot proves the key is in neither place: the common unsampled free
// reads one line, and it is the line of the page the program just touched.
// An insert that finds no room in either place fails, and the allocation is
// then treated as unsampled (and counted as dropped). Memory is fixed.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace leakscope::preload {

template <size_t kLogSlots>
class SampledSet {
 public:
  static constexpr size_t kSlots = size_t{1} << kLogSlots;
  static constexpr size_t kLine = 8, kWindow = 16;

  bool Insert(uint64_t p) {
    return InsertIn(PageHome(p), kLine, p) || InsertIn(AddressHome(p), kWindow, p);
  }

  // Removes p if present; true if it was.
  bool Erase(uint64_t p) {
    std::atomic<uint64_t>* s = Find(p);
    if (!s) return false;
    uint64_t v = p;
    return s->compare_exchange_strong(v, kDeleted, std::memory_order_relaxed);
  }

  bool Contains(uint64_t p) { return Find(p) != nullptr; }

  static size_t PageHomeForTest(uint64_t p) { return PageHome(p); }

 private:
  static constexpr uint64_t kEmpty = 0, kDeleted = 1;

  // All addresses of one page share a line: frees follow the program's own
  // locality (hashing each address apart made every free a cache miss).
  static size_t PageHome(uint64_t p) {
    const uint64_t h = ((p >> 12) * 0x9E3779B97F4A7C15ull) >> (64 - kLogSlots);
    return static_cast<size_t>(h) & ~(kLine - 1);
  }
  static size_t AddressHome(uint64_t p) {
    return static_cast<size_t>(((p >> 4) * 0xBF58476D1CE4E5B9ull) >> (64 - kLogSlots));
  }

  bool InsertIn(size_t home, size_t len, uint64_t p) {
    for (size_t i = 0; i < len; ++i) {
      auto& s = slots_[(home + i) & (kSlots - 1)];
      uint64_t v = s.load(std::memory_order_relaxed);
      while (v <= kDeleted) {
        if (s.compare_exchange_weak(v, p, std::memory_order_relaxed)) return true;
      }
    }
    return false;
  }

  // The slot holding p; *saw_empty tells whether the range had an empty slot.
  std::atomic<uint64_t>* Scan(size_t home, size_t len, uint64_t p, bool* saw_empty) {
    for (size_t i = 0; i < len; ++i) {
      auto& s = slots_[(home + i) & (kSlots - 1)];
      const uint64_t v = s.load(std::memory_order_relaxed);
      if (v == p) return &s;
      if (v == kEmpty) {
        *saw_empty = true;
        return nullptr;  // inserts fill a range in order: nothing lies beyond
      }
    }
    return nullptr;
  }

  std::atomic<uint64_t>* Find(uint64_t p) {
    bool saw_empty = false;
    if (auto* s = Scan(PageHome(p), kLine, p, &saw_empty)) return s;
    if (saw_empty) return nullptr;  // the primary line was never full
    return Scan(AddressHome(p), kWindow, p, &saw_empty);
  }

  alignas(64) std::atomic<uint64_t> slots_[kSlots] = {};
};

}  // namespace leakscope::preload
