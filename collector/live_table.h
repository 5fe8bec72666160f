// The live-allocation table: address -> (size, site) for every allocation
// that has not been freed. Its memory is the collector's main cost, so the
// entry is packed: a 4-byte-aligned 24-byte key+value pair in a 28-byte
// bucket, at a load factor up to 0.9, is 31..62 bytes per live allocation
// (tests/collector/live_table_test.cc measures it). Size and sequence number
// get 48 bits each: no allocation exceeds the 47-bit address space, and 2^48
// allocations take months even at ten million a second.
#pragma once

#include <tsl/robin_map.h>

#include <cstdint>
#include <memory>
#include <optional>

namespace leakscope::collector {

struct LiveAllocation {
  uint64_t size;
  uint32_t site;
  uint64_t seq = 0;  // the allocation's number in its process, from 1; 0: inherited at fork
};

namespace live_table_detail {

// Two halves instead of a uint64_t: alignment 4 keeps the bucket at 24 bytes.
struct Key {
  uint32_t lo, hi;
  bool operator==(const Key& o) const { return lo == o.lo && hi == o.hi; }
};
// size_hi16_seq_lo16: bits 32..47 of the size, then bits 0..15 of seq.
struct Value {
  uint32_t size_lo, size_hi16_seq_lo16, seq_hi32, site;
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
    map_.max_load_factor(kSmallLoad);
  }

  // Records a live allocation. If `address` was already live (its free was
  // lost), returns the allocation it replaces.
  std::optional<LiveAllocation> Insert(uint64_t address, LiveAllocation a) {
    if (__builtin_expect(map_.size() >= kSmallEntries, 0) && small_) {
      small_ = false;
      map_.max_load_factor(0.9f);
    }
    const live_table_detail::Value v = Pack(a);
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

  // The bucket array's bytes (the table's memory; the daemon's budget).
  uint64_t MemoryBytes() const { return uint64_t(map_.bucket_count()) * kBucketBytes; }
  // The most it takes beyond MemoryBytes() while `more` entries go in: a
  // rehash holds the old array and the new one (twice as many buckets per
  // doubling) at once.
  uint64_t GrowthBound(uint64_t more) const {
    uint64_t buckets = map_.bucket_count() ? map_.bucket_count() : 1;
    const uint64_t target = map_.size() + more;
    while (double(target) > double(buckets) * 0.9) buckets *= 2;
    return buckets == map_.bucket_count() ? 0 : buckets * kBucketBytes;
  }
  // robin_map's bucket: the 24-byte pair (4-aligned) and its distance.
  static constexpr uint64_t kBucketBytes = 28;

  // Calls fn(address, allocation) for every live allocation.
  template <class Fn>
  void ForEach(Fn&& fn) const {
    for (auto it = map_.begin(); it != map_.end(); ++it)
      fn((uint64_t(it->first.hi) << 32) | it->first.lo, Unpack(it->second));
  }

 private:
  static live_table_detail::Value Pack(const LiveAllocation& a) {
    constexpr uint64_t kMax48 = (uint64_t(1) << 48) - 1;
    const uint64_t size = a.size < kMax48 ? a.size : kMax48;
    const uint64_t seq = a.seq & kMax48;
    return {static_cast<uint32_t>(size),
            static_cast<uint32_t>((size >> 32) | ((seq & 0xffff) << 16)),
            static_cast<uint32_t>(seq >> 16), a.site};
  }
  static LiveAllocation Unpack(const live_table_detail::Value& v) {
    return {(uint64_t(v.size_hi16_seq_lo16 & 0xffff) << 32) | v.size_lo, v.site,
            (uint64_t(v.seq_hi32) << 16) | (v.size_hi16_seq_lo16 >> 16)};
  }

  // A small table (a program whose allocations are mostly short-lived, like
  // churn's 64-slot window) runs at load 1/4: short probe sequences, fewer
  // mispredicted branches, ~40% less time per event; the bytes do not matter
  // there. From 512 entries on it is packed at load 0.9 (2048 buckets at the
  // switch: 57 B per entry at 1000, within 64 B from there on).
  static constexpr float kSmallLoad = 0.25f;
  static constexpr size_t kSmallEntries = 512;
  bool small_ = true;
  tsl::robin_map<live_table_detail::Key, live_table_detail::Value, live_table_detail::KeyHash,
                 std::equal_to<live_table_detail::Key>, Allocator>
      map_;
};

using LiveTable = BasicLiveTable<>;

}  // namespace leakscope::collector
