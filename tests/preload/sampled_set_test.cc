#include "sampled_set.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace leakscope::preload {
namespace {

TEST(SampledSet, InsertContainsErase) {
  static SampledSet<10> set;
  EXPECT_FALSE(set.Contains(0x1000));
  EXPECT_TRUE(set.Insert(0x1000));
  EXPECT_TRUE(set.Insert(0x2000));
  EXPECT_TRUE(set.Contains(0x1000));
  EXPECT_TRUE(set.Erase(0x1000));
  EXPECT_FALSE(set.Contains(0x1000));
  EXPECT_FALSE(set.Erase(0x1000));
  EXPECT_TRUE(set.Contains(0x2000));
}

TEST(SampledSet, ManyKeysOfOnePageOverflowIntoTheirSecondaryWindows) {
  static SampledSet<12> set;
  // 200 keys in one 4 KiB page share a primary line of 8 slots.
  for (uint64_t i = 0; i < 200; ++i) ASSERT_TRUE(set.Insert(0x40000 + 16 * i)) << i;
  for (uint64_t i = 0; i < 200; ++i) ASSERT_TRUE(set.Contains(0x40000 + 16 * i)) << i;
  EXPECT_FALSE(set.Contains(0x40000 + 16 * 200));
  for (uint64_t i = 0; i < 200; i += 2) ASSERT_TRUE(set.Erase(0x40000 + 16 * i));
  for (uint64_t i = 0; i < 200; ++i) EXPECT_EQ(set.Contains(0x40000 + 16 * i), i % 2 == 1) << i;
}

TEST(SampledSet, AFullTableRefusesAndKeepsWhatItHas) {
  static SampledSet<6> set;  // 64 slots
  std::vector<uint64_t> in;
  for (uint64_t p = 0x1000; in.size() < 64 && p < 0x1000 + 16 * 100000; p += 16 * 37) {
    if (set.Insert(p)) in.push_back(p);
  }
  EXPECT_EQ(in.size(), 64u);                           // every slot reachable through some window
  EXPECT_FALSE(set.Insert(0x7777777770));              // refused once lines and windows are full...
  for (uint64_t p : in) EXPECT_TRUE(set.Contains(p));  // ...and nothing was lost
}

TEST(SampledSet, ConcurrentInsertAndEraseOfDisjointKeys) {
  static SampledSet<14> set;
  auto work = [](uint64_t base) {
    for (int round = 0; round < 50; ++round) {
      // One key per page (dense keys share a 16-slot window: see above).
      for (uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(set.Insert(base + i * 4096 + 48));
      for (uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(set.Erase(base + i * 4096 + 48));
    }
  };
  std::thread a(work, 0x100000000ull), b(work, 0x200000000ull);
  a.join();
  b.join();
  for (uint64_t i = 0; i < 1000; ++i) EXPECT_FALSE(set.Contains(0x100000000ull + i * 4096 + 48));
}

}  // namespace
}  // namespace leakscope::preload
