// ProcessState's sites by their pcs, without a copy of the pcs: open
// addressing over site numbers, each compared against the site's own pcs.
// A string key per site (the pcs again) took 6 MiB and a node allocation
// per stack for Node.js's 21,000 stacks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

namespace leakscope::collector {

class SiteIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // Seeded once per process: a stream cannot aim its stacks at one slot.
  static uint64_t Hash(const uint64_t* pcs, size_t n) {
    static const uint64_t seed = std::random_device{}() | 1;
    uint64_t h = seed ^ n;
    for (size_t i = 0; i < n; ++i) {
      h = (h ^ pcs[i]) * 0x9E3779B97F4A7C15ull;
      h ^= h >> 29;
    }
    return h;
  }

  // The site with this hash for which same(site) holds, or kNone.
  template <class Same>
  uint32_t Find(uint64_t hash, Same&& same) const {
    if (slots_.empty()) return kNone;
    const size_t mask = slots_.size() - 1;
    for (size_t i = static_cast<uint32_t>(hash) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.site_plus_one == 0) return kNone;
      if (s.hash == static_cast<uint32_t>(hash) && same(s.site_plus_one - 1))
        return s.site_plus_one - 1;
    }
  }

  // `site` is not in the index yet.
  void Insert(uint32_t site, uint64_t hash) {
    if (2 * (size_ + 1) > slots_.size()) Grow();
    Put({site + 1, static_cast<uint32_t>(hash)});
    ++size_;
  }

  uint64_t MemoryBytes() const { return slots_.capacity() * sizeof(Slot); }
  // The most it takes beyond MemoryBytes() while `more` sites go in.
  uint64_t GrowthBound(uint64_t more) const {
    uint64_t slots = slots_.empty() ? 0 : slots_.size();
    const uint64_t before = slots;
    while (2 * (size_ + more) > slots) slots = slots ? 2 * slots : 16;
    return slots == before ? 0 : slots * sizeof(Slot);
  }

 private:
  struct Slot {
    uint32_t site_plus_one = 0;  // 0: empty
    uint32_t hash = 0;           // the hash's low half: the slot's index, and a first compare
  };
  void Put(Slot slot) {
    const size_t mask = slots_.size() - 1;
    size_t i = slot.hash & mask;
    while (slots_[i].site_plus_one != 0) i = (i + 1) & mask;
    slots_[i] = slot;
  }
  void Grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 16 : 2 * old.size(), Slot{});
    for (const Slot& slot : old)
      if (slot.site_plus_one != 0) Put(slot);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
};

}  // namespace leakscope::collector
