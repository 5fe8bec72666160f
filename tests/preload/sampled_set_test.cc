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

TEST(SampledSet, AFullWindowRefusesInsteadOfProbingFurther) {
  static SampledSet<10> set;
  // 17 keys with the same home slot (the same 4 KiB page): 16 fit in the
  // window, the 17th does not.
  std::vector<uint64_t> same_home;
  for (uint64_t p = 0x10000; same_home.size() < 17; p += 16) same_home.push_back(p);
  for (uint64_t p : same_home)
    ASSERT_EQ(SampledSet<10>::HomeForTest(p), SampledSet<10>::HomeForTest(0x10000));
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(set.Insert(same_home[i]));
  EXPECT_FALSE(set.Insert(same_home[16]));
  EXPECT_TRUE(set.Erase(same_home[3]));
  EXPECT_TRUE(set.Insert(same_home[16]));  // a deleted slot is reused
  EXPECT_TRUE(set.Contains(same_home[16]));
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
