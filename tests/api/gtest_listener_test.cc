// The GoogleTest listener on a real suite (leaky_suite.cc): under the shim
// exactly the leaking tests fail, each naming its leaking call site; without
// the shim every test passes.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "run_process.h"

namespace leakscope::api_testing {
namespace {

const std::string kSuite = LEAKY_SUITE_PATH;

class GtestListener : public ::testing::Test {
 protected:
  ProcessResult UnderShim(const std::string& filter, std::vector<std::string> env = {}) {
    EXPECT_TRUE(daemon_.ok());
    env.insert(env.begin(), "LEAKSCOPE_SAMPLE_INTERVAL=1");  // exact, unless env says otherwise
    env.push_back("LD_PRELOAD=" LEAKSCOPE_SHIM_PATH);
    env.push_back("LEAKSCOPE_SOCKET=" + daemon_.socket());
    return RunProcess({kSuite, "--gtest_filter=" + filter}, env);
  }
  Daemon daemon_{LEAKSCOPED_PATH};
};

// Lines of `r` with `needle`, the suite's source named without its
// directories: DWARF and __FILE__ spell it as the compiler was given it,
// relative to the build folder under ccache's base_dir, absolute otherwise.
std::vector<std::string> SourceLinesWith(const ProcessResult& r, const std::string& needle) {
  // Plain string search, not <regex>: GCC 12 warns inside <regex> under the
  // sanitizer build's flags (-Wmaybe-uninitialized), and -Werror stops it.
  static const std::string kFile = "/leaky_suite.cc";
  std::vector<std::string> out;
  for (std::string line : LinesWith(r.output, needle)) {
    for (size_t at; (at = line.find(kFile)) != std::string::npos;) {
      size_t start = line.rfind(' ', at);
      start = start == std::string::npos ? 0 : start + 1;
      line.replace(start, at + kFile.size() - start, "leaky_suite.cc");
    }
    out.push_back(line);
  }
  return out;
}

std::vector<std::string> Failed(const ProcessResult& r) {
  std::vector<std::string> names;
  for (const std::string& line : LinesWith(r.output, "[  FAILED  ] Suite."))
    names.push_back(line.substr(line.find("Suite."), line.find(" (") - line.find("Suite.")));
  return names;
}

TEST_F(GtestListener, LeakingTestFailsNamingItsSite) {
  ProcessResult r = UnderShim("Suite.Leaks");
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_EQ(LinesWith(r.output, "leakscope: this test leaked"),
            std::vector<std::string>{"leakscope: this test leaked 48 bytes in 1 allocation"});
  EXPECT_EQ(SourceLinesWith(r, "bytes in 1 from"),
            std::vector<std::string>{"  48 bytes in 1 from (anonymous "
                                     "namespace)::LeakForTest(unsigned long) at leaky_suite.cc:23"})
      << r.output;
}

// The failure is the test's: at its TEST line, where an IDE jumps, not in
// the listener's source.
TEST_F(GtestListener, FailureIsAtTheTestsFileAndLine) {
  ProcessResult r = UnderShim("Suite.Leaks:Suite.VectorLeak");
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_EQ(SourceLinesWith(r, ": Failure"),
            (std::vector<std::string>{"leaky_suite.cc:58: Failure", "leaky_suite.cc:99: Failure"}))
      << r.output;
}

// Through std::vector the site named is the program's line (the call site,
// proto/call_site.h), not std::vector's allocator.
TEST_F(GtestListener, LeakThroughStdVectorNamesTheProgramsLine) {
  ProcessResult r = UnderShim("Suite.VectorLeak");
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_EQ(LinesWith(r.output, "leakscope: this test leaked"),
            std::vector<std::string>{"leakscope: this test leaked 28 bytes in 2 allocations"});
  EXPECT_EQ(SourceLinesWith(r, " bytes in 1 from "),
            (std::vector<std::string>{"  24 bytes in 1 from LeakVector() at leaky_suite.cc:94",
                                      "  4 bytes in 1 from LeakVector() at leaky_suite.cc:95"}))
      << r.output;
}

// LEAKSCOPE_GTEST_BUDGET takes the one size syntax: "1K" is 1024 bytes (it
// used to read as 1), enough for Suite.Leaks' 48; "47" is not.
TEST_F(GtestListener, BudgetFromEnvironmentTakesUnits) {
  ProcessResult r = UnderShim("Suite.Leaks", {"LEAKSCOPE_GTEST_BUDGET=1K"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(LinesWith(r.output, "leakscope:"), std::vector<std::string>{}) << r.output;
  r = UnderShim("Suite.Leaks", {"LEAKSCOPE_GTEST_BUDGET=47"});
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_EQ(LinesWith(r.output, "leakscope: this test leaked"),
            std::vector<std::string>{
                "leakscope: this test leaked 48 bytes in 1 allocation, budget 47 bytes"});
}

TEST_F(GtestListener, UnreadableBudgetIsAnErrorAtStart) {
  ProcessResult r = UnderShim("Suite.Leaks", {"LEAKSCOPE_GTEST_BUDGET=64 KB"});
  EXPECT_EQ(r.exit_status, 2) << r.output;
  EXPECT_EQ(LinesWith(r.output, "LEAKSCOPE_GTEST_BUDGET"),
            std::vector<std::string>{"leakscope: LEAKSCOPE_GTEST_BUDGET='64 KB' is not a size "
                                     "(e.g. 4096, 512K, 64M, 2G)"});
  EXPECT_EQ(LinesWith(r.output, "[ RUN      ]"), std::vector<std::string>{}) << r.output;
}

TEST_F(GtestListener, CleanTestPasses) {
  ProcessResult r = UnderShim("Suite.Clean");
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(LinesWith(r.output, "leakscope:"), std::vector<std::string>{}) << r.output;
}

TEST_F(GtestListener, WholeSuiteFailsExactlyTheLeakingTests) {
  ProcessResult r = UnderShim("*");
  EXPECT_EQ(r.exit_status, 1) << r.output;
  // Sorted by name in GoogleTest's summary, then the tests as they ran.
  EXPECT_EQ(Failed(r),
            (std::vector<std::string>{"Suite.Leaks", "Suite.OverBudget", "Suite.PoolLeak",
                                      "Suite.VectorLeak", "Suite.Leaks", "Suite.OverBudget",
                                      "Suite.PoolLeak", "Suite.VectorLeak"}))
      << r.output;
  EXPECT_EQ(LinesWith(r.output, "leakscope: this test leaked"),
            (std::vector<std::string>{
                "leakscope: this test leaked 48 bytes in 1 allocation",
                "leakscope: this test leaked 65 bytes in 1 allocation, budget 64 bytes",
                "leakscope: this test leaked 24 bytes in 1 allocation",
                "leakscope: this test leaked 28 bytes in 2 allocations"}))
      << r.output;
  EXPECT_EQ(
      SourceLinesWith(r, "from (anonymous namespace)::PoolAllocate"),
      std::vector<std::string>{"  24 bytes in 1 from (anonymous "
                               "namespace)::PoolAllocate(unsigned long) at leaky_suite.cc:41"})
      << r.output;
}

TEST_F(GtestListener, SampledModeSaysEstimated) {
  // A 48-byte allocation against a countdown of mean 2 bytes is sampled but
  // for odds of e^-24, and stands for itself: 48 bytes exactly.
  ProcessResult r = UnderShim("Suite.Leaks", {"LEAKSCOPE_SAMPLE_INTERVAL=2"});
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_EQ(LinesWith(r.output, "leakscope: this test leaked"),
            std::vector<std::string>{
                "leakscope: this test leaked 48 bytes in 1 allocation (estimated: sampled mode)"})
      << r.output;
}

TEST(GtestListenerWithoutShim, EveryTestPasses) {
  ProcessResult r = RunProcess({kSuite}, {"LD_PRELOAD="});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(LinesWith(r.output, "[  PASSED  ] 9 tests."),
            std::vector<std::string>{"[  PASSED  ] 9 tests."});
}

TEST(GtestListenerWithoutCollector, EveryTestPassesAndSaysWhy) {
  ScratchDir dir;
  ProcessResult r = RunProcess(
      {kSuite, "--gtest_filter=Suite.Leaks"},
      {"LD_PRELOAD=" LEAKSCOPE_SHIM_PATH, "LEAKSCOPE_SOCKET=" + dir.path() + "/nobody-listens",
       "LEAKSCOPE_QUERY_TIMEOUT_MS=200"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(LinesWith(r.output, "leakscope: leak check unavailable"),
            std::vector<std::string>{"leakscope: leak check unavailable, tests are not checked: no "
                                     "collector connection"});
}

TEST(GtestListenerUnderLeakscopeRun, LeakingTestFails) {
  ScratchDir dir;
  ProcessResult r = RunProcess({LEAKSCOPE_CLI_PATH, "run", "-o", dir.path(), "--", kSuite,
                                "--gtest_filter=Suite.Leaks:Suite.Clean"});
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_EQ(Failed(r), (std::vector<std::string>{"Suite.Leaks", "Suite.Leaks"})) << r.output;
}

}  // namespace
}  // namespace leakscope::api_testing
