// Sampled mode's estimates against known truth, over 100 seeds
// (LEAKSCOPE_SEED), each a short run of programs/sampling_prog.c under
// `leakscope run --sample-interval 4096`.
//
// Why these bounds hold: for allocations much smaller than the interval R,
// the estimate of a site's live bytes L has a standard deviation of about
// sqrt(L * R) (Horvitz-Thompson over Poisson samples), a relative error of
// sqrt(R / L). The leaking site holds L = 2,552,000 B = 623 R: 4.0%, so
// +-15% is 3.7 standard deviations and fails for about 1 seed in 4,000. (At
// exactly L = 100 R the relative error is 10% and +-15% would hold for only
// ~87% of seeds: the +-15% promise needs a few hundred intervals of live data.)
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "report_file.h"

namespace leakscope {
namespace {

constexpr uint64_t kTrueLeakBytes = [] {
  uint64_t total = 0;
  for (int i = 0; i < 16000; ++i) total += 64 + i % 192;
  return total;
}();

struct Estimate {
  bool ok = false;
  uint64_t leak = 0, low = 0, high = 0, churn_live = 1, samples = 0;
};

Estimate RunSeed(int seed, const std::string& dir) {
  const std::string out = dir + "/" + std::to_string(seed);
  const std::string cmd = "mkdir -p " + out + " && LEAKSCOPE_SEED=" + std::to_string(seed) +
                          " " LEAKSCOPE_BIN " run --sample-interval 4096 -o " + out +
                          " -- " SAMPLING_PROG " > /dev/null 2>&1";
  Estimate e;
  if (std::system(cmd.c_str()) != 0) return e;
  const std::string path = out + "/leakscope_sampling_prog.";
  std::string found;
  for (const auto& name : {std::string("ls ") + out + "/*.lsr"}) {
    FILE* f = popen(name.c_str(), "r");
    char buf[4096] = {};
    if (f && fgets(buf, sizeof buf, f)) found = buf;
    if (f) pclose(f);
  }
  if (!found.empty() && found.back() == '\n') found.pop_back();
  report::Report r;
  std::string error;
  if (!report::ReadReportFile(found, &r, &error)) return e;
  e.churn_live = 0;
  for (const auto& s : r.sites()) {
    if (!s.frames_size()) continue;
    const std::string& fn = r.frames(int(s.frames(0))).function();
    if (fn == "accuracy_leak") {
      e.leak = s.live_bytes();
      e.low = s.live_bytes_ci_low();
      e.high = s.live_bytes_ci_high();
      e.samples = s.live_samples();
    }
    if (fn == "accuracy_churn") e.churn_live += s.live_bytes();
  }
  e.ok = r.sampling_interval_bytes() == 4096;
  return e;
}

TEST(SamplingAccuracy, HundredSeedsWithinFifteenPercentAndIntervalsCoverTheTruth) {
  char tmpl[] = "/tmp/leakscope-accuracy-XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  int within = 0, covered = 0, runs = 0;
  for (int seed = 1; seed <= 100; ++seed) {
    const Estimate e = RunSeed(seed, dir);
    ASSERT_TRUE(e.ok) << "seed " << seed;
    ++runs;
    EXPECT_EQ(e.churn_live, 0u) << "seed " << seed << ": a site that frees everything";
    EXPECT_GT(e.samples, 0u);
    const double error = (double(e.leak) - double(kTrueLeakBytes)) / double(kTrueLeakBytes);
    within += std::abs(error) <= 0.15;
    covered += e.low <= kTrueLeakBytes && kTrueLeakBytes <= e.high;
  }
  std::system(("rm -rf " + dir).c_str());
  EXPECT_EQ(runs, 100);
  EXPECT_GE(within, 95) << "estimates within +-15% of " << kTrueLeakBytes;
  EXPECT_GE(covered, 90) << "95% intervals containing " << kTrueLeakBytes;
  std::printf("within 15%%: %d/100, intervals covering the truth: %d/100\n", within, covered);
}

}  // namespace
}  // namespace leakscope
