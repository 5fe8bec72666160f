// `leakscope run` for real: the shim preloaded into a small C program
// (leaky_child.c) whose allocations are known, the collector on a thread.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_runner.h"
#include "report_file.h"

namespace leakscope::viewer {
namespace {

using testing::CliResult;
using testing::RunLeakscope;
using testing::TempDir;

// The only report in `dir`, read; fails the test if there is not exactly one.
report::Report OnlyReport(const TempDir& dir, std::string* path) {
  report::Report report;
  const std::vector<std::string> files = dir.Files();
  EXPECT_EQ(files.size(), 1u);
  if (files.size() != 1) return report;
  *path = dir.path() + "/" + files[0];
  std::string error;
  EXPECT_TRUE(report::ReadReportFile(*path, &report, &error)) << error;
  return report;
}

// The site whose innermost frame is `function`, or null.
const report::Site* SiteOf(const report::Report& report, const std::string& function) {
  for (const report::Site& site : report.sites()) {
    if (site.frames_size() > 0 && site.frames(0) < static_cast<uint32_t>(report.frames_size()) &&
        report.frames(static_cast<int>(site.frames(0))).function() == function) {
      return &site;
    }
  }
  return nullptr;
}

TEST(RunEndToEnd, ExitStatusAndLeakFiguresAreExact) {
  TempDir out;
  const CliResult r = RunLeakscope({"run", "-o", out.path(), "--", LEAKY_CHILD, "exit3"});
  EXPECT_EQ(r.exit_status, 3) << r.err;
  std::string path;
  const report::Report report = OnlyReport(out, &path);
  EXPECT_EQ(path.rfind(out.path() + "/viewer_leaky_child.", 0), 0u) << path;
  EXPECT_EQ(report.process().end(), report::Process::EXITED);
  EXPECT_EQ(report.process().exit_status(), 3);
  ASSERT_EQ(report.process().argv_size(), 2);
  EXPECT_EQ(report.process().argv(1), "exit3");

  // Nothing else in the program allocates: 10 x 100 B leaked, 5 x 64 B churned.
  const report::Totals& t = report.totals();
  EXPECT_EQ(t.allocations(), 10u + 5u);
  EXPECT_EQ(t.frees(), 5u);
  EXPECT_EQ(t.allocated_bytes(), 10u * 100u + 5u * 64u);
  EXPECT_EQ(t.live_bytes(), 10u * 100u);
  EXPECT_EQ(t.live_allocations(), 10u);
  EXPECT_EQ(t.peak_live_bytes(), 10u * 100u + 5u * 64u);  // churn() runs after the leak
  EXPECT_EQ(report.dropped_events(), 0u);

  const report::Site* leak = SiteOf(report, "leak_hundreds");
  ASSERT_NE(leak, nullptr);
  EXPECT_EQ(leak->live_bytes(), 10u * 100u);
  EXPECT_EQ(leak->live_allocations(), 10u);
  EXPECT_EQ(leak->allocations(), 10u);
  EXPECT_EQ(leak->allocated_bytes(), 10u * 100u);
  const report::Site* churn = SiteOf(report, "churn");
  ASSERT_NE(churn, nullptr);
  EXPECT_EQ(churn->live_bytes(), 0u);
  EXPECT_EQ(churn->allocations(), 5u);
  EXPECT_EQ(churn->allocated_bytes(), 5u * 64u);

  EXPECT_NE(r.err.find("    leak_hundreds  "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("\nReport: " + path + "\n"), std::string::npos) << r.err;
}

// The README's first example: `-o reports` names a folder that does not
// exist yet. It is made (with a missing parent, as `mkdir -p`), private to us.
TEST(RunEndToEnd, MissingOutputDirectoryIsCreatedPrivate) {
  TempDir top;
  const std::string parent = top.path() + "/new";
  const std::string reports = parent + "/reports";
  const CliResult r = RunLeakscope({"run", "-o", reports, "--", LEAKY_CHILD, "exit3"});
  EXPECT_EQ(r.exit_status, 3) << r.err;
  for (const std::string& dir : {parent, reports}) {
    struct stat st;
    ASSERT_EQ(stat(dir.c_str(), &st), 0) << dir;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << dir;
    EXPECT_EQ(st.st_mode & 07777, 0700u) << dir;
  }
  std::vector<std::string> files;
  if (DIR* d = opendir(reports.c_str())) {
    while (const dirent* e = readdir(d))
      if (e->d_name[0] != '.') files.push_back(e->d_name);
    closedir(d);
  }
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].rfind("viewer_leaky_child.", 0), 0u) << files[0];
  EXPECT_NE(r.err.find("\nReport: " + reports + "/" + files[0] + "\n"), std::string::npos) << r.err;
  // TempDir removes files only.
  EXPECT_EQ(unlink((reports + "/" + files[0]).c_str()), 0);
  EXPECT_EQ(rmdir(reports.c_str()), 0);
  EXPECT_EQ(rmdir(parent.c_str()), 0);
}

TEST(RunEndToEnd, JsonOfTheWrittenReport) {
  TempDir out;
  ASSERT_EQ(RunLeakscope({"run", "-o", out.path(), "--", LEAKY_CHILD, "exit3"}).exit_status, 3);
  std::string path;
  OnlyReport(out, &path);
  const CliResult json = RunLeakscope({"report", path, "--json", "--top", "1"});
  EXPECT_EQ(json.exit_status, 0) << json.err;
  EXPECT_NE(json.out.find("    \"exit_status\": 3,\n    \"end\": \"exited\",\n"), std::string::npos)
      << json.out;
  // The biggest surviving site is the leak: 10 x 100 B, all live at the peak
  // (the peak is reached with churn's 5 x 64 B also live; they are freed after).
  EXPECT_NE(json.out.find("  \"sites\": [\n"
                          "    {\n"
                          "      \"live_bytes\": 1000,\n"
                          "      \"live_allocations\": 10,\n"
                          "      \"allocated_bytes\": 1000,\n"
                          "      \"allocations\": 10,\n"
                          "      \"peak_live_bytes\": 1000,\n"
                          "      \"temporary_allocations\": 0,\n"
                          "      \"internal\": false,\n"
                          "      \"site_id\": \""),
            std::string::npos)
      << json.out;
  // Its call site is its first frame (site ids: call_site_test.cc, site_ids_test.cc).
  EXPECT_NE(json.out.find("\",\n"
                          "      \"call_site_frame\": 0,\n"
                          "      \"frames\": [\n"
                          "        {\n"
                          "          \"function\": \"leak_hundreds\",\n"),
            std::string::npos)
      << json.out;
}

TEST(RunEndToEnd, KilledBySigkill) {
  TempDir out;
  const CliResult r = RunLeakscope({"run", "-o", out.path(), "--", LEAKY_CHILD, "sigkill"});
  EXPECT_EQ(r.exit_status, 128 + 9) << r.err;
  std::string path;
  const report::Report report = OnlyReport(out, &path);
  EXPECT_EQ(report.process().end(), report::Process::SIGNALED);
  ASSERT_EQ(report.process().argv_size(), 2);
  EXPECT_EQ(report.process().signal(), 9);
  EXPECT_EQ(report.process().argv(1), "sigkill");
  // The child waited for the shim to send its events before SIGKILL.
  const report::Site* leak = SiteOf(report, "leak_hundreds");
  ASSERT_NE(leak, nullptr);
  EXPECT_EQ(leak->live_bytes(), 10u * 100u);
  EXPECT_EQ(leak->live_allocations(), 10u);
  // Not the totals: the child's polling (opendir) allocates, and the last of
  // those events may still have been in flight.
  EXPECT_NE(r.err.find("killed by SIGKILL (signal 9)"), std::string::npos) << r.err;
}

TEST(RunEndToEnd, ForkedChildGetsItsOwnReport) {
  TempDir out;
  const CliResult r = RunLeakscope({"run", "-o", out.path(), "--", LEAKY_CHILD, "fork"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  const std::vector<std::string> files = out.Files();
  ASSERT_EQ(files.size(), 2u) << r.err;
  int forked = 0;
  for (const std::string& name : files) {
    report::Report report;
    std::string error;
    ASSERT_TRUE(report::ReadReportFile(out.path() + "/" + name, &report, &error)) << error;
    if (!report.process().forked()) continue;
    ++forked;
    const report::Site* leak = SiteOf(report, "leak_hundreds");
    ASSERT_NE(leak, nullptr);
    EXPECT_EQ(leak->live_bytes(), 10u * 100u);
    EXPECT_NE(r.err.find("Reports of other traced processes (forked children):\n  " + out.path() +
                         "/" + name + " (pid " + std::to_string(report.process().pid()) + ")\n"),
              std::string::npos)
        << r.err;
  }
  EXPECT_EQ(forked, 1);
}

// SIGTERM sent to leakscope reaches the command; leakscope exits as it did.
TEST(RunEndToEnd, ForwardsSigtermToTheCommand) {
  TempDir out;
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(pipe_fds[1], STDOUT_FILENO);
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    execl(LEAKSCOPE_BIN, LEAKSCOPE_BIN, "run", "-o", out.path().c_str(), "--", LEAKY_CHILD,
          "wait-term", static_cast<char*>(nullptr));
    _exit(251);
  }
  close(pipe_fds[1]);
  char ready[6] = {};
  ASSERT_EQ(read(pipe_fds[0], ready, sizeof ready), 6);  // the command is up and traced
  EXPECT_EQ(std::string(ready, 6), "ready\n");
  close(pipe_fds[0]);
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  std::string path;
  const report::Report report = OnlyReport(out, &path);
  EXPECT_EQ(report.process().end(), report::Process::SIGNALED);
  EXPECT_EQ(report.process().signal(), SIGTERM);
}

TEST(RunEndToEnd, SampleIntervalReachesTheShimAndPrivateDirIsRemoved) {
  TempDir out, tmp;
  const CliResult r = RunLeakscope(
      {"run", "-o", out.path(), "--sample-interval", "4096", "--", LEAKY_CHILD, "exit3"},
      {"TMPDIR=" + tmp.path()});
  EXPECT_EQ(r.exit_status, 3) << r.err;
  std::string path;
  EXPECT_EQ(OnlyReport(out, &path).sampling_interval_bytes(), 4096u);
  EXPECT_NE(r.err.find("Sampling     one sample per 4.0 KiB (4,096 bytes) allocated on average"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(tmp.Files(), std::vector<std::string>{});  // the socket's directory is gone
}

// One size syntax for the flag and the shim's variable (proto/byte_size.h).
TEST(RunEndToEnd, SampleIntervalTakesUnitsInTheFlagAndTheVariable) {
  {
    TempDir out;
    const CliResult r = RunLeakscope(
        {"run", "-o", out.path(), "--sample-interval", "4K", "--", LEAKY_CHILD, "exit3"});
    EXPECT_EQ(r.exit_status, 3) << r.err;
    std::string path;
    EXPECT_EQ(OnlyReport(out, &path).sampling_interval_bytes(), 4096u);
  }
  {
    TempDir out;
    const CliResult r = RunLeakscope({"run", "-o", out.path(), "--", LEAKY_CHILD, "exit3"},
                                     {"LEAKSCOPE_SAMPLE_INTERVAL=8K"});
    EXPECT_EQ(r.exit_status, 3) << r.err;
    EXPECT_EQ(r.err.find("LEAKSCOPE_SAMPLE_INTERVAL"), std::string::npos) << r.err;
    std::string path;
    EXPECT_EQ(OnlyReport(out, &path).sampling_interval_bytes(), 8192u);
  }
}

TEST(RunEndToEnd, ChildInheritsNoCollectorDescriptor) {
  TempDir out;
  const CliResult r = RunLeakscope({"run", "-o", out.path(), "--", LEAKY_CHILD, "check-fds"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
}

}  // namespace
}  // namespace leakscope::viewer
