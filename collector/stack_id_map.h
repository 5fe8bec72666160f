// Maps the stream's stack ids (uint32, > 0) to small indexes without hashing
// on the hot path: the shim numbers stacks 1, 2, 3..., so a vector indexed by
// id serves them; ids beyond kDenseLimit (only a strange or hostile stream)
// fall back to a hash map instead of a huge vector.
#pragma once

#include <tsl/robin_map.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace leakscope::collector {

class StackIdMap {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr uint32_t kDenseLimit = 1u << 22;

  // Returns false if `id` was already mapped.
  bool Insert(uint32_t id, uint32_t index) {
    if (id < kDenseLimit) {
      if (id >= dense_.size()) dense_.resize(std::max<size_t>(id + 1, dense_.size() * 2), kNone);
      if (dense_[id] != kNone) return false;
      dense_[id] = index;
      return true;
    }
    return sparse_.emplace(id, index).second;
  }

  // Bytes held (the daemon's memory budget).
  uint64_t MemoryBytes() const {
    return dense_.capacity() * sizeof(uint32_t) + sparse_.bucket_count() * kSparseBucketBytes;
  }
  // The most it takes beyond MemoryBytes() while ids up to `max_dense_id`
  // and `sparse` ids beyond kDenseLimit go in (old and new arrays at once).
  uint64_t GrowthBound(uint32_t max_dense_id, uint64_t sparse) const {
    uint64_t bytes = 0;
    if (max_dense_id >= dense_.size() && max_dense_id < kDenseLimit)
      bytes += std::max<uint64_t>(max_dense_id + 1, dense_.size() * 2) * sizeof(uint32_t);
    // Load factor 0.5, doubled: at most 4 buckets per entry after a rehash.
    if (sparse) bytes += 4 * (sparse_.size() + sparse) * kSparseBucketBytes;
    return bytes;
  }
  static constexpr uint64_t kSparseBucketBytes = 12;  // id, index, distance

  // kNone if `id` is not mapped.
  uint32_t Find(uint32_t id) const {
    if (id < dense_.size()) return dense_[id];
    if (id < kDenseLimit) return kNone;
    auto it = sparse_.find(id);
    return it == sparse_.end() ? kNone : it->second;
  }

 private:
  std::vector<uint32_t> dense_;
  tsl::robin_map<uint32_t, uint32_t> sparse_;
};

}  // namespace leakscope::collector
