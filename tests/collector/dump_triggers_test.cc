// When the daemon dumps a process on its own (collector/dump_triggers.h).
#include "dump_triggers.h"

#include <gtest/gtest.h>

namespace leakscope::collector {
namespace {

TEST(DumpTriggers, NearLimitFiresOnceAndAgainAfterFallingFivePointsBelow) {
  DumpOptions o;
  o.at_limit_percent = 90;
  DumpTriggers t(o);
  EXPECT_FALSE(t.NearLimit(899, 1000));
  EXPECT_TRUE(t.NearLimit(900, 1000));
  EXPECT_FALSE(t.NearLimit(990, 1000));  // still there: once
  EXPECT_FALSE(t.NearLimit(851, 1000));  // 85.1%: not 5 points below yet
  EXPECT_FALSE(t.NearLimit(849, 1000));  // re-armed
  EXPECT_TRUE(t.NearLimit(950, 1000));
}

TEST(DumpTriggers, NearLimitNeedsALimitAndTheFlag) {
  DumpTriggers off{DumpOptions{}};
  EXPECT_FALSE(off.NearLimit(1000, 1000));
  DumpOptions o;
  o.at_limit_percent = 100;
  DumpTriggers t(o);
  EXPECT_FALSE(t.NearLimit(5, 0));
  EXPECT_FALSE(t.NearLimit(999, 1000));
  EXPECT_TRUE(t.NearLimit(1000, 1000));
  // No overflow near 2^64.
  DumpTriggers big(o);
  EXPECT_TRUE(big.NearLimit(UINT64_MAX, UINT64_MAX));
}

TEST(DumpTriggers, HighWaterIsAGeometricSeriesOfNewHighs) {
  DumpOptions o;
  o.high_water_percent = 50;
  o.high_water_from = 1000;
  DumpTriggers t(o);
  EXPECT_FALSE(t.NewHighWater(1499));
  EXPECT_TRUE(t.NewHighWater(1500));
  EXPECT_FALSE(t.NewHighWater(2249));  // 1500 * 1.5 = 2250
  EXPECT_FALSE(t.NewHighWater(100));   // falling back never re-arms: only new highs count
  EXPECT_TRUE(t.NewHighWater(4000));
  EXPECT_FALSE(t.NewHighWater(5999));
  EXPECT_TRUE(t.NewHighWater(6000));
  DumpTriggers off{DumpOptions{}};
  EXPECT_FALSE(off.NewHighWater(UINT64_MAX));
}

TEST(DumpTriggers, LimitIsLookedAtAgainWhenTheHeapMovedAHundredthOfIt) {
  DumpOptions o;
  o.at_limit_percent = 80;
  DumpTriggers t(o);
  EXPECT_FALSE(t.LimitLookDue(1 << 30));  // no limit seen yet: the tick looks first
  t.LimitLooked(5000, 100000);
  EXPECT_FALSE(t.LimitLookDue(5999));
  EXPECT_TRUE(t.LimitLookDue(6000));
  EXPECT_TRUE(t.LimitLookDue(4000));  // freed as much: usage may have moved too
}

TEST(DumpTriggers, PressureAtMostOncePerSpacing) {
  DumpOptions o;
  o.pressure_stall_ms = 100;
  DumpTriggers t(o);
  EXPECT_TRUE(t.PressureDue(5));
  EXPECT_FALSE(t.PressureDue(5 + kPressureSpacingNs - 1));
  EXPECT_TRUE(t.PressureDue(5 + kPressureSpacingNs));
  DumpTriggers off{DumpOptions{}};
  EXPECT_FALSE(off.PressureDue(1));
}

}  // namespace
}  // namespace leakscope::collector
