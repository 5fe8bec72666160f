// Integrity for real: `leakscope run --lossy` with a tiny ring (8 KiB,
// LEAKSCOPE_RING_SIZE's size syntax) drained every 100 ms cannot hold
// leaky_child's burst of 400,000 events, and every view says what was lost;
// the same ring without --lossy loses nothing and says "complete".
#include <gtest/gtest.h>

#include "cli_runner.h"
#include "human_units.h"
#include "report_file.h"

namespace leakscope::viewer {
namespace {

using testing::CliResult;
using testing::RunLeakscope;
using testing::TempDir;

const std::vector<std::string> kTinyRing = {"LEAKSCOPE_RING_SIZE=8K", "LEAKSCOPE_FLUSH_MS=100"};

// Runs leaky_child burst; fills *path and *report with its only report.
CliResult RunBurst(const TempDir& out, bool lossy, std::string* path, report::Report* report) {
  std::vector<std::string> args = {"run", "-o", out.path()};
  if (lossy) args.push_back("--lossy");
  for (const char* a : {"--", LEAKY_CHILD, "burst"}) args.push_back(a);
  const CliResult r = RunLeakscope(args, kTinyRing);
  const std::vector<std::string> files = out.Files();
  EXPECT_EQ(files.size(), 1u);
  if (files.size() == 1) {
    *path = out.path() + "/" + files[0];
    std::string error;
    EXPECT_TRUE(report::ReadReportFile(*path, report, &error)) << error;
  }
  return r;
}

TEST(IntegrityEndToEnd, ALossyRunThatDropsEventsSaysSoInEveryView) {
  TempDir out;
  std::string path;
  report::Report report;
  const CliResult run = RunBurst(out, true, &path, &report);
  EXPECT_EQ(run.exit_status, 0) << run.err;
  const uint64_t dropped = report.dropped_events();
  const uint64_t unmatched = report.totals().unmatched_frees();  // frees of dropped allocations
  ASSERT_GT(dropped, 0u);
  EXPECT_EQ(report.reentrant_events(), 0u);
  EXPECT_EQ(report.totals().possibly_missing_ms(), 0u);

  const std::string losses =
      CountOf(dropped, "event", "events") + " dropped (ring full or collector unreachable)" +
      (unmatched ? ", " + CountOf(unmatched, "free", "frees") + " of blocks never seen allocated"
                 : "");
  const std::string line = "\nIntegrity    INCOMPLETE: " + losses + "\n";
  EXPECT_NE(run.err.find(line), std::string::npos) << run.err;  // run's own summary
  const CliResult text = RunLeakscope({"report", path});
  EXPECT_EQ(text.exit_status, 0);
  EXPECT_NE(text.out.find(line), std::string::npos) << text.out;

  const CliResult json = RunLeakscope({"report", path, "--json"});
  EXPECT_NE(json.out.find("  \"integrity\": {\n    \"complete\": false,\n    \"sampled\": false,\n"
                          "    \"dropped_events\": " +
                          std::to_string(dropped) +
                          ",\n    \"reentrant_events\": 0,\n    \"unmatched_frees\": " +
                          std::to_string(unmatched) + ",\n"),
            std::string::npos)
      << json.out;

  // leak_hundreds' 1000 B may be among the dropped: a budget above it.
  CliResult check = RunLeakscope({"check", path, "--max-leaked", "1M"});
  EXPECT_EQ(check.exit_status, 0) << check.out;
  EXPECT_NE(check.out.find("\nleakscope check: warning: figures incomplete: " + losses + "\n"),
            std::string::npos)
      << check.out;
  check = RunLeakscope({"check", path, "--max-leaked", "1M", "--require-complete"});
  EXPECT_EQ(check.exit_status, 3) << check.out;
  EXPECT_NE(check.out.find("\nleakscope check: FAIL (--require-complete): figures incomplete: " +
                           losses + "\n"),
            std::string::npos)
      << check.out;
}

// The same tiny ring without --lossy: threads wait for room, nothing is lost,
// and a real run's figures pass --require-complete (no unmatched frees).
TEST(IntegrityEndToEnd, ALosslessRunIsComplete) {
  TempDir out;
  std::string path;
  report::Report report;
  const CliResult run = RunBurst(out, false, &path, &report);
  EXPECT_EQ(run.exit_status, 0) << run.err;
  EXPECT_EQ(report.dropped_events(), 0u);
  EXPECT_EQ(report.totals().unmatched_frees(), 0u);
  EXPECT_NE(run.err.find("\nIntegrity    complete: every allocation and free recorded\n"),
            std::string::npos)
      << run.err;
  const CliResult check =
      RunLeakscope({"check", path, "--max-leaked", "1000", "--require-complete"});
  EXPECT_EQ(check.exit_status, 0) << check.out;
  EXPECT_EQ(check.out.find("warning"), std::string::npos) << check.out;
}

// `run --check --require-complete` gates on the run's own report: exit 3.
TEST(IntegrityEndToEnd, RunCheckRequireComplete) {
  TempDir out;
  std::vector<std::string> args = {"run",     "-o",           out.path(), "--lossy",
                                   "--check", "--max-leaked", "1M",       "--require-complete",
                                   "--",      LEAKY_CHILD,    "burst"};
  const CliResult r = RunLeakscope(args, kTinyRing);
  EXPECT_EQ(r.exit_status, 3) << r.err;
  EXPECT_NE(r.err.find("\nleakscope run --check: FAIL (--require-complete): figures incomplete: "),
            std::string::npos)
      << r.err;
}

// The ring size through `leakscope run`: one that cannot be read is the
// shim's one-line warning, and the run goes on with the default ring.
TEST(IntegrityEndToEnd, UnreadableRingSizeWarnsThroughRun) {
  TempDir out;
  const CliResult r = RunLeakscope({"run", "-o", out.path(), "--", LEAKY_CHILD, "exit0"},
                                   {"LEAKSCOPE_RING_SIZE=8KB"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.err.find("leakscope: LEAKSCOPE_RING_SIZE='8KB' is not a size (e.g. 4096, 512K, "
                       "64M, 2G); using 524288\n"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("\nIntegrity    complete: every allocation and free recorded\n"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace leakscope::viewer
