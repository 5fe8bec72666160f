// The live-allocation table: address -> (size, site) for every allocation
// that has not been freed. Its memory is the collector's main cost, so the
// entry is packed: a 4-byte-aligned 20-byte key+value pair in a 24-byte
// bucket, at a load factor up to 0.9, is 27..53 bytes per live allocation
// (tests/collector/live_table_test.cc measures it).
#pragma once

#include <tsl/robin_map.h>

#include <cstdint>
#include <memory>
#include <optional>

namespace leakscope::collector {

struct LiveAllocation {
  uint64_t size;
  uint32_t site;
};

namespace live_table_detail {

// Two halves instead of a uint64_t: alignment 4 keeps the bucket at 24 bytes.
struct Key {
  uint32_t lo, hi;
  bool operator==(const Key& o) const { return lo == o.lo && hi == o.hi; }
};
struct Value {
  uint32_t size_lo, size_hi, site;
};
// Addresses share their low bits (16-byte alignment) and robin_map uses
// power-of-two buckets: mix all bits into the bucket index.
struct KeyHash {
  size_t operator()(const Key& k) const {
    uint64_t x = (uint64_t(k.hi) << 32) | k.lo;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return static_cast<size_t>(x);
  }
};
inline Key MakeKey(uint64_t address) {
  return {static_cast<uint32_t>(address), static_cast<uint32_t>(address >> 32)};
}

}  // namespace live_table_detail

template <class Allocator =
              std::allocator<std::pair<live_table_detail::Key, live_table_detail::Value>>>
class BasicLiveTable {
 public:
  explicit BasicLiveTable(const Allocator& alloc = Allocator())
      : map_(0, live_table_detail::KeyHash(), std::equal_to<live_table_detail::Key>(), alloc) {
    map_.max_load_factor(0.9f);
  }

  // Records a live allocation. If `address` was already live (its free was
  // lost), returns the allocation it replaces.
  std::optional<LiveAllocation> Insert(uint64_t address, LiveAllocation a) {
    live_table_detail::Value v{static_cast<uint32_t>(a.size), static_cast<uint32_t>(a.size >> 32),
                               a.site};
    auto [it, inserted] = map_.try_emplace(live_table_detail::MakeKey(address), v);
    if (inserted) return std::nullopt;
    LiveAllocation old = Unpack(it->second);
    it.value() = v;
    return old;
  }

  // Removes and returns the allocation at `address`; nullopt if not live.
  std::optional<LiveAllocation> Erase(uint64_t address) {
    auto it = map_.find(live_table_detail::MakeKey(address));
    if (it == map_.end()) return std::nullopt;
    LiveAllocation a = Unpack(it->second);
    map_.erase(it);
    return a;
  }

  std::optional<LiveAllocation> Find(uint64_t address) const {
    auto it = map_.find(live_table_detail::MakeKey(address));
    if (it == map_.end()) return std::nullopt;
    return Unpack(it->second);
  }

  size_t size() const { return map_.size(); }

 private:
  static LiveAllocation Unpack(const live_table_detail::Value& v) {
    return {(uint64_t(v.size_hi) << 32) | v.size_lo, v.site};
  }

  tsl::robin_map<live_table_detail::Key, live_table_detail::Value, live_table_detail::KeyHash,
                 std::equal_to<live_table_detail::Key>, Allocator>
      map_;
};

using LiveTable = BasicLiveTable<>;

}  // namespace leakscope::collector
