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
  // 17 keys with the same home slot: 16 fit in the window, the 17th does not.
  // Home = ((p >> 4) * golden) >> 54, so p and p + (1 << 58) collide... use
  // keys that differ only above bit 4 + 54 after the multiply: brute-force.
  std::vector<uint64_t> same_home;
  const auto home = [](uint64_t p) { return ((p >> 4) * 0x9E3779B97F4A7C15ull) >> 54; };
  for (uint64_t p = 16; same_home.size() < 17; p += 16)
    if (home(p) == home(16)) same_home.push_back(p);
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
      for (uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(set.Insert(base + i * 64));
      for (uint64_t i = 0; i < 1000; ++i) ASSERT_TRUE(set.Erase(base + i * 64));
    }
  };
  std::thread a(work, 0x100000000ull), b(work, 0x200000000ull);
  a.join();
  b.join();
  for (uint64_t i = 0; i < 1000; ++i) EXPECT_FALSE(set.Contains(0x100000000ull + i * 64));
}

}  // namespace
}  // namespace leakscope::preload
