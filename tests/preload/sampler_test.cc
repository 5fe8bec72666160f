#include "sampler.h"

#include <gtest/gtest.h>

#include <cmath>

namespace leakscope::preload {
namespace {

// Over many allocations of one size s, the sampled fraction is
// p = 1 - exp(-s/R); with n trials it lies within 5 standard deviations.
void ExpectSampledFraction(uint64_t size, uint64_t interval) {
  Sampler s;
  s.Init(interval, 12345);
  const int n = 400000;
  int sampled = 0;
  for (int i = 0; i < n; ++i) sampled += s.Sample(size);
  const double p = -std::expm1(-double(size) / double(interval));
  const double sd = std::sqrt(n * p * (1 - p));
  EXPECT_NEAR(sampled, n * p, 5 * sd) << "size " << size;
}

TEST(Sampler, SamplesWithPoissonProbability) {
  ExpectSampledFraction(16, 4096);
  ExpectSampledFraction(512, 4096);
  ExpectSampledFraction(3000, 4096);
}

TEST(Sampler, AlwaysSamplesAllocationsOfAtLeastTheInterval) {
  Sampler s;
  s.Init(4096, 1);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(s.Sample(4096 + i));
    s.Sample(1);  // small ones in between leave a countdown > 0
  }
  // On the fast path too: a large allocation never waits for the countdown.
  Sampler f;
  f.Init(64, 3);
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(f.MaybeSample(100));
    f.Decide(100);
  }
}

TEST(Sampler, SameSeedSameSequence) {
  Sampler a, b;
  a.Init(4096, 77);
  b.Init(4096, 77);
  for (int i = 0; i < 100000; ++i) ASSERT_EQ(a.Sample(100 + i % 300), b.Sample(100 + i % 300));
}

TEST(Sampler, WeightIsTheInverseOfTheSamplingProbability) {
  EXPECT_DOUBLE_EQ(Sampler::Weight(100, 1), 1.0);
  EXPECT_DOUBLE_EQ(Sampler::Weight(8192, 4096), 1.0);
  EXPECT_DOUBLE_EQ(Sampler::Weight(1024, 4096), 1.0 / (1.0 - std::exp(-0.25)));
}

}  // namespace
}  // namespace leakscope::preload
