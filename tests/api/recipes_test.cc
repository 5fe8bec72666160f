// The deployment recipes run as plain scripts (no Docker engine here):
// examples/container/leakscope-entrypoint.sh in its three modes and
// examples/ci/leak-gate.sh, each against a leaky example with exact figures.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "run_process.h"

namespace leakscope::api_testing {
namespace {

const std::string kEntrypoint = SOURCE_DIR "/examples/container/leakscope-entrypoint.sh";
const std::string kGate = SOURCE_DIR "/examples/ci/leak-gate.sh";
const std::string kLeaky = LISTENER_LEAK_PATH;  // leaks 112,408 bytes, runtime internals apart
const std::string kPath = "PATH=" BIN_DIR ":/usr/bin:/bin";

// `leakscope check REPORT --max-leaked BYTES`'s exit status.
int CheckLeaked(const std::string& report, const std::string& max) {
  return RunProcess({BIN_DIR "/leakscope", "check", report, "--max-leaked", max}).exit_status;
}

TEST(Entrypoint, SelfContainedWrapsTheServiceInLeakscopeRun) {
  ScratchDir dir;
  const std::string reports = dir.path() + "/reports";
  ProcessResult r = RunProcess({"/bin/sh", kEntrypoint, kLeaky},
                               {kPath, "LEAKSCOPE_REPORT_DIR=" + reports, "LEAKSCOPE_SOCKET="});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  const std::vector<std::string> files = FilesEndingWith(reports, ".lsr");
  ASSERT_EQ(files.size(), 1u) << r.output;
  EXPECT_EQ(files[0].substr(0, 14), "listener_leak.");
  EXPECT_EQ(CheckLeaked(reports + "/" + files[0], "112408"), 0);
  EXPECT_EQ(CheckLeaked(reports + "/" + files[0], "112407"), 1);
}

// The example its own header gives: LEAKSCOPE_RUN_ARGS="--sample-interval 512K".
TEST(Entrypoint, DocumentedRunArgsExampleSamples) {
  std::ifstream script(kEntrypoint);
  const std::string text{std::istreambuf_iterator<char>(script), {}};
  ASSERT_NE(text.find("LEAKSCOPE_RUN_ARGS (extra `leakscope run` options, e.g. \"--sample-interval "
                      "512K\")"),
            std::string::npos);
  ScratchDir dir;
  const std::string reports = dir.path() + "/reports";
  ProcessResult r = RunProcess({"/bin/sh", kEntrypoint, kLeaky},
                               {kPath, "LEAKSCOPE_REPORT_DIR=" + reports,
                                "LEAKSCOPE_SOCKET=", "LEAKSCOPE_RUN_ARGS=--sample-interval 512K"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  const std::vector<std::string> files = FilesEndingWith(reports, ".lsr");
  ASSERT_EQ(files.size(), 1u) << r.output;
  ProcessResult json =
      RunProcess({BIN_DIR "/leakscope", "report", reports + "/" + files[0], "--json"});
  EXPECT_EQ(json.exit_status, 0);
  EXPECT_EQ(LinesWith(json.output, "\"sampling_interval_bytes\": 524288").size(), 1u)
      << json.output;
}

TEST(Entrypoint, SidecarModePreloadsTheShimAndStreamsToTheSocket) {
  Daemon sidecar(LEAKSCOPED_PATH);
  ASSERT_TRUE(sidecar.ok());
  ProcessResult r = RunProcess(
      {"/bin/sh", kEntrypoint, kLeaky},
      {kPath, "LEAKSCOPE_SOCKET=" + sidecar.socket(), "LEAKSCOPE_PRELOAD=" LEAKSCOPE_SHIM_PATH,
       "LEAKSCOPE_SAMPLE_INTERVAL=1"});  // exact figures (the shim alone samples by default)
  EXPECT_EQ(r.exit_status, 0) << r.output;
  sidecar.Stop();
  const std::vector<std::string> files = FilesEndingWith(sidecar.dir(), ".lsr");
  ASSERT_EQ(files.size(), 1u) << r.output;
  EXPECT_EQ(CheckLeaked(sidecar.dir() + "/" + files[0], "112408"), 0);
  EXPECT_EQ(CheckLeaked(sidecar.dir() + "/" + files[0], "112407"), 1);
}

TEST(Entrypoint, SidecarNotThereYetRunsAndSaysSo) {
  ScratchDir dir;
  const std::string socket = dir.path() + "/socket";
  ProcessResult r =
      RunProcess({"/bin/sh", kEntrypoint, kLeaky},
                 {kPath, "LEAKSCOPE_SOCKET=" + socket, "LEAKSCOPE_PRELOAD=" LEAKSCOPE_SHIM_PATH,
                  "LEAKSCOPE_WAIT_SECONDS=0"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(LinesWith(r.output, "leakscope-entrypoint:"),
            std::vector<std::string>{"leakscope-entrypoint: no collector at " + socket +
                                     " yet; the shim will keep trying"});
}

TEST(Entrypoint, DisabledRunsTheServiceUntouched) {
  ScratchDir dir;
  const std::string reports = dir.path() + "/reports";
  ProcessResult r = RunProcess({"/bin/sh", kEntrypoint, kLeaky},
                               {kPath, "LEAKSCOPE_DISABLE=1", "LEAKSCOPE_REPORT_DIR=" + reports});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(LinesWith(r.output, "Report:"), std::vector<std::string>{});
  EXPECT_EQ(FilesEndingWith(reports, ".lsr"), std::vector<std::string>{});
}

TEST(Entrypoint, NoCommandIsAUsageError) {
  ProcessResult r = RunProcess({"/bin/sh", kEntrypoint}, {kPath});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.output, "leakscope-entrypoint: no command to run\n");
}

TEST(LeakGate, FirstRunHasNoBaselineAndKeepsTheReport) {
  ScratchDir dir;
  const std::string out = dir.path() + "/reports";
  ProcessResult r = RunProcess({"/bin/sh", kGate, "-o", out, "--baseline", dir.path() + "/old.lsr",
                                "--max-leaked", "1M", "--max-growth", "0", "--", kLeaky},
                               {kPath});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(LinesWith(r.output, "leak-gate: no baseline"),
            std::vector<std::string>{"leak-gate: no baseline at " + dir.path() +
                                     "/old.lsr yet; gating on --max-leaked only"});
  EXPECT_EQ(CheckLeaked(out + "/report.lsr", "112408"), 0);
  EXPECT_EQ(CheckLeaked(out + "/report.lsr", "112407"), 1);
}

TEST(LeakGate, OverBudgetFails) {
  ScratchDir dir;
  ProcessResult r = RunProcess(
      {"/bin/sh", kGate, "-o", dir.path(), "--max-leaked", "112407", "--", kLeaky}, {kPath});
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_EQ(LinesWith(r.output, "leak-gate: report").size(), 1u) << r.output;
}

TEST(LeakGate, SameLeaksAsTheBaselinePass) {
  ScratchDir dir;
  ASSERT_EQ(
      RunProcess({"/bin/sh", kGate, "-o", dir.path() + "/a", "--max-leaked", "1M", "--", kLeaky},
                 {kPath})
          .exit_status,
      0);
  ProcessResult r = RunProcess(
      {"/bin/sh", kGate, "-o", dir.path() + "/b", "--baseline", dir.path() + "/a/report.lsr",
       "--max-leaked", "1M", "--max-growth", "0", "--", kLeaky},
      {kPath});
  EXPECT_EQ(r.exit_status, 0) << r.output;
}

TEST(LeakGate, GrowthOverTheBaselineFails) {
  // The same suite: one test that leaks nothing, then one that leaks 64 bytes
  // (within its own budget, so the suite itself passes).
  ScratchDir dir;
  ASSERT_EQ(RunProcess({"/bin/sh", kGate, "-o", dir.path() + "/a", "--max-leaked", "1M", "--",
                        LEAKY_SUITE_PATH, "--gtest_filter=Suite.Clean"},
                       {kPath})
                .exit_status,
            0);
  const std::vector<std::string> gate = {
      "/bin/sh",      kGate, "-o", dir.path() + "/b", "--baseline", dir.path() + "/a/report.lsr",
      "--max-leaked", "1M"};
  std::vector<std::string> strict = gate, lenient = gate;
  for (auto* args : {&strict, &lenient}) {
    args->push_back("--max-growth");
    args->push_back(args == &strict ? "63" : "64");
    args->insert(args->end(), {"--", LEAKY_SUITE_PATH, "--gtest_filter=Suite.WithinBudget"});
  }
  ProcessResult over = RunProcess(strict, {kPath});
  EXPECT_EQ(over.exit_status, 1) << over.output;
  ProcessResult within = RunProcess(lenient, {kPath});
  EXPECT_EQ(within.exit_status, 0) << within.output;
}

}  // namespace
}  // namespace leakscope::api_testing
