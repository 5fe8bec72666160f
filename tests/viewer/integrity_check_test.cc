// `leakscope check` on figures that are not whole: a warning line per
// problem (events dropped or lost, unmatched frees, a killed process's last
// events, sampling), and with --require-complete a failure of its own, exit
// 3. ServerReport leaks 1,573,864 B, within the --max-leaked used here.
#include <gtest/gtest.h>

#include "cli_runner.h"
#include "report_file.h"
#include "sample_reports.h"

namespace leakscope::viewer {
namespace {

using testing::CliResult;
using testing::RunLeakscope;
using testing::TempDir;

const char kOk[] =
    "leakscope check: OK: 1.5 MiB (1,573,864 bytes) leaked in 2 sites, within budget; runtime "
    "internals (0 B) and suppressed sites (0 B) not counted\n";

class IntegrityCheckTest : public ::testing::Test {
 protected:
  // check REPORT --max-leaked 1573864 [extra...]
  CliResult Check(const report::Report& r, const std::vector<std::string>& extra = {}) {
    const std::string path = dir_.path() + "/r.lsr";
    std::string error;
    EXPECT_TRUE(report::WriteReportFile(path, r, &error)) << error;
    std::vector<std::string> args = {"check", path, "--max-leaked", "1573864"};
    args.insert(args.end(), extra.begin(), extra.end());
    return RunLeakscope(args);
  }
  // Warns (exit 0) without --require-complete, fails with it (exit 3), with
  // `problem` after "warning: " and "FAIL (--require-complete): ".
  void ExpectWarnsThenFails(const report::Report& r, const std::string& problem) {
    CliResult c = Check(r);
    EXPECT_EQ(c.exit_status, 0) << c.out << c.err;
    EXPECT_EQ(c.out, kOk + std::string("leakscope check: warning: ") + problem + "\n");
    EXPECT_EQ(c.err, "");
    c = Check(r, {"--require-complete"});
    EXPECT_EQ(c.exit_status, 3) << c.out << c.err;
    EXPECT_EQ(c.out,
              kOk + std::string("leakscope check: FAIL (--require-complete): ") + problem + "\n");
    EXPECT_EQ(c.err, "");
  }
  TempDir dir_;
};

TEST_F(IntegrityCheckTest, CompletePassesSilentlyWithOrWithoutRequireComplete) {
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"--require-complete"}}) {
    const CliResult c = Check(testing::ServerReport(), extra);
    EXPECT_EQ(c.exit_status, 0) << c.out << c.err;
    EXPECT_EQ(c.out, kOk);
  }
}

TEST_F(IntegrityCheckTest, Sampled) {
  report::Report r = testing::ServerReport();
  r.set_sampling_interval_bytes(524288);
  ExpectWarnsThenFails(
      r, "sampled (one per 512.0 KiB): figures are estimates, small leaks may be missed");
}

TEST_F(IntegrityCheckTest, DroppedEvents) {
  report::Report r = testing::ServerReport();
  r.set_dropped_events(5);
  ExpectWarnsThenFails(r,
                       "figures incomplete: 5 events dropped (ring full or collector unreachable)");
}

TEST_F(IntegrityCheckTest, EventsLostInSignalHandlers) {
  report::Report r = testing::ServerReport();
  r.set_reentrant_events(2);
  ExpectWarnsThenFails(r, "figures incomplete: 2 events lost in signal handlers");
}

TEST_F(IntegrityCheckTest, UnmatchedFrees) {
  report::Report r = testing::ServerReport();
  r.mutable_totals()->set_unmatched_frees(3);
  ExpectWarnsThenFails(r, "figures incomplete: 3 frees of blocks never seen allocated");
}

TEST_F(IntegrityCheckTest, KilledProcess) {
  report::Report r = testing::ServerReport();
  r.mutable_process()->set_end(report::Process::SIGNALED);
  r.mutable_process()->set_signal(9);
  r.mutable_totals()->set_possibly_missing_ms(40);
  ExpectWarnsThenFails(r,
                       "figures incomplete: the last 40 ms of events before the process was "
                       "killed may be missing");
}

// Over budget is a certain failure (1), whatever else was lost; both kinds of
// line are printed.
TEST_F(IntegrityCheckTest, OverBudgetWinsOverIncomplete) {
  report::Report r = testing::ServerReport();
  r.set_dropped_events(5);
  r.set_sampling_interval_bytes(4096);
  const CliResult c = Check(r, {"--max-leaked", "1K", "--require-complete"});
  EXPECT_EQ(c.exit_status, 1) << c.out;
  EXPECT_EQ(c.out.rfind("leakscope check: FAIL: 1.5 MiB (1,573,864 bytes) leaked;", 0), 0u);
  EXPECT_NE(c.out.find("\nleakscope check: FAIL (--require-complete): figures incomplete: 5 "
                       "events dropped (ring full or collector unreachable)\n"
                       "leakscope check: FAIL (--require-complete): sampled (one per 4.0 KiB): "
                       "figures are estimates, small leaks may be missed\n"),
            std::string::npos)
      << c.out;
}

TEST_F(IntegrityCheckTest, HelpDocumentsRequireComplete) {
  const CliResult c = RunLeakscope({"check", "--help"});
  EXPECT_EQ(c.exit_status, 0);
  EXPECT_NE(c.out.find("  --require-complete     fail with exit 3 if the figures are incomplete"),
            std::string::npos)
      << c.out;
  EXPECT_NE(c.out.find("3 if within budget but --require-complete and the figures are incomplete"),
            std::string::npos);
}

}  // namespace
}  // namespace leakscope::viewer
