// Pending fork snapshots: claimed once, and never kept for ever.
#include "fork_registry.h"

#include <gtest/gtest.h>

namespace leakscope::collector {
namespace {

ForkSnapshot WithBlocks(size_t n) {
  ForkSnapshot s;
  for (size_t i = 0; i < n; ++i) s.live.push_back({0x1000 + 16 * i, 16, 0});
  return s;
}

TEST(ForkRegistry, ASnapshotIsClaimedOnce) {
  ForkRegistry r;
  r.Add({7, 70, 1}, WithBlocks(3), 0);
  EXPECT_EQ(r.blocks(), 3u);
  EXPECT_FALSE(r.Take({7, 70, 2}));
  EXPECT_FALSE(r.Take({7, 71, 1}));  // another image of pid 7
  auto s = r.Take({7, 70, 1});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->live.size(), 3u);
  EXPECT_FALSE(r.Take({7, 70, 1}));
  EXPECT_EQ(r.size(), 0u);
  EXPECT_EQ(r.blocks(), 0u);
}

TEST(ForkRegistry, UnclaimedSnapshotsExpire) {
  ForkRegistry r;
  r.Add({7, 70, 1}, WithBlocks(1), 0);
  r.Add({7, 70, 2}, WithBlocks(1), 5);
  r.Add({8, 80, 1}, WithBlocks(1), 5);
  r.Expire(ForkRegistry::kTtlNs);
  EXPECT_EQ(r.size(), 2u);
  // Pid 7's stream ended: its snapshots go after the grace period, pid 8's stay.
  r.ParentEnded(7, 70, 100);
  r.Expire(100 + ForkRegistry::kParentGoneGraceNs);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_TRUE(r.Take({8, 80, 1}));
}

TEST(ForkRegistry, TheOldestGoFirstBeyondTheLimit) {
  ForkRegistry r;
  for (uint64_t i = 1; i <= ForkRegistry::kMaxSnapshots + 1; ++i) r.Add({7, 70, i}, {}, i);
  EXPECT_EQ(r.size(), ForkRegistry::kMaxSnapshots);
  EXPECT_FALSE(r.Take({7, 70, 1}));
  EXPECT_TRUE(r.Take({7, 70, 2}));
}

}  // namespace
}  // namespace leakscope::collector
