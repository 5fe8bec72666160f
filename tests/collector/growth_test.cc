// SustainedGrowth: a steady leak is a suspect with its exact slope; a
// sawtooth, a plateau and a short series are not.
#include "growth.h"

#include <gtest/gtest.h>

#include <functional>

namespace leakscope::collector {
namespace {

constexpr uint64_t kStep = 100'000'000;  // 100 ms

std::vector<SeriesPoint> Series(size_t n, const std::function<uint64_t(size_t)>& bytes) {
  std::vector<SeriesPoint> s;
  for (size_t i = 0; i < n; ++i) s.push_back({i * kStep, bytes(i)});
  return s;
}

TEST(Growth, SteadyLeakHasItsSlopeAndFullConfidence) {
  auto g = SustainedGrowth(Series(30, [](size_t i) { return 1000 * i; }));
  ASSERT_TRUE(g);
  // 1000 bytes per 100 ms = 36,000,000 bytes per hour.
  EXPECT_NEAR(g->bytes_per_hour, 36e6, 1e-3);
  EXPECT_NEAR(g->confidence, 1.0, 1e-12);
}

TEST(Growth, SmallDipsLowerConfidence) {
  // Every 6th step (i = 5, 11, 17, 23, 29) falls by 100: 24 of 29 steps rise.

  auto series = Series(30, [](size_t i) { return 1000 * i - (i % 6 == 5 ? 1100 : 0); });
  double gained = 0, lost = 0;
  size_t rising = 0;
  for (size_t i = 1; i < series.size(); ++i) {
    double d = double(series[i].bytes) - double(series[i - 1].bytes);
    rising += d >= 0;
    (d >= 0 ? gained : lost) += d >= 0 ? d : -d;
  }
  ASSERT_EQ(rising, 24u);  // the 5 steps into i % 6 == 5 fall
  auto g = SustainedGrowth(series);
  ASSERT_TRUE(g);
  EXPECT_LT(g->confidence, (24.0 / 29.0) * (1 - lost / gained) + 1e-12);
  EXPECT_GT(g->confidence, 0.5);
}

TEST(Growth, SawtoothIsNotASuspect) {
  EXPECT_FALSE(SustainedGrowth(Series(30, [](size_t i) { return 1000 * (i % 10); })));
  // Even a rising sawtooth gives back too much.
  EXPECT_FALSE(SustainedGrowth(Series(30, [](size_t i) { return 100 * i + 1000 * (i % 4); })));
}

TEST(Growth, PlateauIsNotASuspect) {
  // Fills in the first third, then flat: the thirds' means stop rising.
  EXPECT_FALSE(SustainedGrowth(Series(30, [](size_t i) { return 1000 * std::min<size_t>(i, 8); })));
  // Rises over two thirds (means 4500 < 14500 < 20000), flat in the last.
  EXPECT_FALSE(
      SustainedGrowth(Series(30, [](size_t i) { return 1000 * std::min<size_t>(i, 20); })));
}

TEST(Growth, FlatAndFallingAreNotSuspects) {
  EXPECT_FALSE(SustainedGrowth(Series(30, [](size_t) { return 5000; })));
  EXPECT_FALSE(SustainedGrowth(Series(30, [](size_t i) { return 100000 - 1000 * i; })));
}

TEST(Growth, TooFewPoints) {
  EXPECT_FALSE(SustainedGrowth(Series(kMinGrowthPoints - 1, [](size_t i) { return 1000 * i; })));
  EXPECT_TRUE(SustainedGrowth(Series(kMinGrowthPoints, [](size_t i) { return 1000 * i; })));
}

}  // namespace
}  // namespace leakscope::collector
