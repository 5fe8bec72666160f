// Which block of the scan a word points into (reachability.h), in a few
// loads: the mark phase asks this of every word it reads, so on a heap of
// 10 M blocks a binary search (23 dependent cache misses) was most of the
// scan. Blocks sorted by address are cut into segments wherever a gap of
// more than kSegmentGap lies between two (the main heap, each arena, each
// mmap'd block); each segment is cut into equal granules, about one block
// per granule (a power of two, at least 16 bytes), and for each granule the
// index of the last block that starts before its end is kept (4 bytes: the
// table is at most about twice the number of blocks). A word is then
// checked against the lowest and highest address (most words are small
// integers or code addresses), its segment found (one compare when there is
// one, else a binary search over the few segments), and its block is the
// last one starting at or before it among the granule's (one or two).
#pragma once

#include <cstdint>
#include <vector>

#include "reachability.h"

namespace leakscope::collector {

class BlockIndex {
 public:
  static constexpr uint64_t kSegmentGap = 1 << 20;

  // `blocks`: sorted by address, not overlapping (SortBlocks); kept by
  // reference, so it must outlive the index.
  explicit BlockIndex(const std::vector<ScanBlock>& blocks);

  // The index of the block [address, address + max(size, 1)) holding `word`,
  // or -1.
  int64_t Find(uint64_t word) const {
    if (word - lowest_ >= span_) return -1;
    const Segment* s = segments_.data();
    if (segments_.size() > 1) s = SegmentOf(word);
    if (word >= s->end) return -1;
    const uint64_t g = (word - s->start) >> s->shift;
    // The block holding `word` is the last one starting at or before it:
    // one of the granule's own, in (lo, hi], else lo (which starts before
    // the granule; g = 0: the segment's first block).
    int64_t i = table_[s->table + g];
    const int64_t lo = g > 0 ? int64_t(table_[s->table + g - 1]) : int64_t(s->first);
    if (i - lo > kLinear) i = LastAtOrBefore(word, lo, i);
    while (i > lo && blocks_[i].address > word) --i;
    const ScanBlock& b = blocks_[i];
    if (word < b.address || word - b.address >= (b.size > 0 ? b.size : 1)) return -1;
    return i;
  }

  // Words outside [lowest(), lowest() + span()) are in no block: the check a
  // scan loop makes itself, with both in registers, before calling Find.
  uint64_t lowest() const { return lowest_; }
  uint64_t span() const { return span_; }

  // Bytes the index holds besides the blocks.
  uint64_t bytes() const {
    return table_.capacity() * sizeof(uint32_t) + segments_.capacity() * sizeof(Segment);
  }

 private:
  struct Segment {
    uint64_t start = 0, end = 0;  // its first block's start, its last block's end
    uint32_t first = 0;           // its first block
    uint32_t shift = 0;           // log2 of its granule
    uint64_t table = 0;           // its first granule in table_
  };
  static constexpr int64_t kLinear = 8;  // blocks in one granule searched one by one
  const Segment* SegmentOf(uint64_t word) const;
  // The last block in [lo, hi] starting at or before `word`, else lo.
  int64_t LastAtOrBefore(uint64_t word, int64_t lo, int64_t hi) const;

  const std::vector<ScanBlock>& blocks_;
  std::vector<Segment> segments_;
  std::vector<uint32_t> table_;
  uint64_t lowest_ = 1, span_ = 0;  // words in [lowest_, lowest_ + span_) may be in a block
};

}  // namespace leakscope::collector
