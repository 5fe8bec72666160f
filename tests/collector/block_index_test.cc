// BlockIndex (collector/block_index.h) against a linear search over the same
// blocks, for every address around every block and granule edge of layouts
// that exercise each path: one segment, many, a dense cluster in a coarse
// granule (the binary search), zero-sized blocks, a block larger than its
// segment's granules, gaps just under and over kSegmentGap.
#include "block_index.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

namespace leakscope::collector {
namespace {

int64_t Linear(const std::vector<ScanBlock>& blocks, uint64_t word) {
  for (size_t i = 0; i < blocks.size(); ++i)
    if (word >= blocks[i].address &&
        word - blocks[i].address < std::max<uint64_t>(blocks[i].size, 1))
      return int64_t(i);
  return -1;
}

// Every word within 32 bytes of each block's start and end, and a few
// thousand random ones across the whole range: returns how many disagree.
int Mismatches(const std::vector<ScanBlock>& blocks, uint64_t seed) {
  const BlockIndex index(blocks);
  std::set<uint64_t> probes = {0, 1, ~0ull};
  for (const ScanBlock& b : blocks)
    for (uint64_t d = 0; d <= 32; ++d) {
      probes.insert(b.address - d);
      probes.insert(b.address + d);
      probes.insert(b.address + b.size - d);
      probes.insert(b.address + b.size + d);
    }
  std::mt19937_64 random(seed);
  const uint64_t low = blocks.front().address - 4096;
  const uint64_t span = blocks.back().address + blocks.back().size + 4096 - low;
  for (int i = 0; i < 5000; ++i) probes.insert(low + random() % span);
  int wrong = 0;
  for (uint64_t w : probes)
    if (index.Find(w) != Linear(blocks, w)) {
      if (++wrong <= 5) ADD_FAILURE() << "word " << std::hex << w;
    }
  return wrong;
}

TEST(BlockIndex, OneDenseSegmentOfEqualBlocks) {
  std::vector<ScanBlock> blocks;
  for (uint64_t i = 0; i < 500; ++i) blocks.push_back({0x10000 + 112 * i, 104, 0});
  EXPECT_EQ(Mismatches(blocks, 1), 0);
}

TEST(BlockIndex, RandomSizesGapsAndSegments) {
  std::mt19937_64 random(7);
  for (int layout = 0; layout < 20; ++layout) {
    std::vector<ScanBlock> blocks;
    uint64_t at = 0x555500000000 + 16 * (random() % 4096);
    for (int i = 0; i < 300; ++i) {
      const uint64_t kind = random() % 100;
      uint64_t size = kind < 5 ? 0 : kind < 90 ? 8 * (random() % 64) + 1 : random() % (300 << 10);
      blocks.push_back({at, size, 0});
      uint64_t gap = 16 * (random() % 8);
      if (kind % 17 == 0) gap = BlockIndex::kSegmentGap - 8 + 16 * (random() % 2);  // either side
      if (kind % 23 == 0) gap = uint64_t(random() % 64) << 30;                      // another arena
      at = (at + std::max<uint64_t>(size, 1) + gap + 15) & ~uint64_t(15);
    }
    EXPECT_EQ(Mismatches(blocks, uint64_t(layout)), 0) << "layout " << layout;
  }
}

TEST(BlockIndex, ClusterOfSmallBlocksInACoarseGranule) {
  // 200 blocks of 16 bytes, then one far enough to make the granule 4 KiB:
  // a granule then holds a hundred blocks, searched by halves.
  std::vector<ScanBlock> blocks;
  for (uint64_t i = 0; i < 200; ++i) blocks.push_back({0x20000 + 16 * i, 16, 0});
  blocks.push_back({0x20000 + (800 << 10), 64, 0});
  EXPECT_EQ(Mismatches(blocks, 3), 0);
}

TEST(BlockIndex, OneLargeBlockAndNone) {
  EXPECT_EQ(Mismatches({{0x7f0000000000, 1ull << 30, 0}}, 4), 0);
  const std::vector<ScanBlock> none;
  const BlockIndex index(none);
  EXPECT_EQ(index.Find(0), -1);
  EXPECT_EQ(index.Find(0x1000), -1);
}

}  // namespace
}  // namespace leakscope::collector
