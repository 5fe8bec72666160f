#include "block_index.h"

#include <algorithm>

namespace leakscope::collector {
namespace {

constexpr uint32_t kMinShift = 4;  // granules of 16 bytes at least: malloc's alignment

uint64_t End(const ScanBlock& b) {
  return b.address + std::max<uint64_t>(b.size, 1);
}

// The smallest power of two (as its log2) at least `n`.
uint32_t CeilLog2(uint64_t n) {
  return n <= 1 ? 0 : uint32_t(64 - __builtin_clzll(n - 1));
}

}  // namespace

BlockIndex::BlockIndex(const std::vector<ScanBlock>& blocks) : blocks_(blocks) {
  if (blocks.empty()) return;
  lowest_ = blocks.front().address;
  span_ = End(blocks.back()) - lowest_;
  // The segments first, then their granules, so the table is allocated once.
  uint64_t granules = 0;
  for (size_t first = 0; first < blocks.size();) {
    size_t last = first;
    while (last + 1 < blocks.size() && blocks[last + 1].address - End(blocks[last]) <= kSegmentGap)
      ++last;
    Segment s;
    s.start = blocks[first].address;
    s.end = End(blocks[last]);
    s.first = uint32_t(first);
    s.shift = std::max(kMinShift, CeilLog2((s.end - s.start) / (last - first + 1)));
    s.table = granules;
    granules += ((s.end - s.start - 1) >> s.shift) + 1;
    segments_.push_back(s);
    first = last + 1;
  }
  segments_.shrink_to_fit();
  table_.resize(granules);
  size_t i = 0;
  for (size_t k = 0; k < segments_.size(); ++k) {
    const Segment& s = segments_[k];
    const size_t last = k + 1 < segments_.size() ? segments_[k + 1].first - 1 : blocks.size() - 1;
    const uint64_t end = k + 1 < segments_.size() ? segments_[k + 1].table : granules;
    i = s.first;
    for (uint64_t g = 0; s.table + g < end; ++g) {
      const uint64_t limit = s.start + ((g + 1) << s.shift);
      while (i < last && blocks[i + 1].address < limit) ++i;
      table_[s.table + g] = uint32_t(i);
    }
  }
}

const BlockIndex::Segment* BlockIndex::SegmentOf(uint64_t word) const {
  auto it = std::upper_bound(segments_.begin(), segments_.end(), word,
                             [](uint64_t w, const Segment& s) { return w < s.start; });
  return &*(it - 1);  // the first segment starts at lowest_, at or before `word`
}

int64_t BlockIndex::LastAtOrBefore(uint64_t word, int64_t lo, int64_t hi) const {
  auto it = std::upper_bound(blocks_.begin() + lo + 1, blocks_.begin() + hi + 1, word,
                             [](uint64_t w, const ScanBlock& b) { return w < b.address; });
  return (it - blocks_.begin()) - 1;
}

}  // namespace leakscope::collector
