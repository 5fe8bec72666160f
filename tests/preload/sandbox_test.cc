// A program in seccomp mode whose filter kills the process on socket() and
// connect(): the shim must never make those calls once the program entered
// seccomp mode. It did when its collector went away (reconnect), and in
// every child the program forked (a new stream). Now it says on stderr that
// it cannot reach a collector and how many events that cost, and the
// program runs on.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <thread>
#include <vector>

#include "report_file.h"
#include "run_process.h"

namespace leakscope {
namespace {

using api_testing::Daemon;
using api_testing::FilesEndingWith;
using api_testing::ProcessResult;
using api_testing::RunProcess;
using api_testing::ScratchDir;
using report::Report;

constexpr const char* kTimeout = "60";
constexpr const char* kOutage =
    ": no collector, and the program is in seccomp mode, where socket() and connect() may be "
    "forbidden: not reconnecting; events from now on are not recorded\n";

std::vector<std::string> Command(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/timeout", "-s", "KILL", kTimeout, SANDBOX_PROG};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::vector<std::string> Preloaded(const Daemon& d) {
  // Every allocation, losslessly, as `leakscope run` records.
  return {"LD_PRELOAD=" SHIM_PATH, "LEAKSCOPE_SOCKET=" + d.socket(), "LEAKSCOPE_SAMPLE_INTERVAL=1",
          "LEAKSCOPE_LOSSLESS=1"};
}

// The reports of the program's own image (`timeout`, preloaded too, has its
// own, and so has its child until it execs the program).
std::vector<Report> ReportsIn(const std::string& dir) {
  std::vector<Report> reports;
  for (const std::string& name : FilesEndingWith(dir, ".lsr")) {
    Report r;
    std::string error;
    EXPECT_TRUE(report::ReadReportFile(dir + "/" + name, &r, &error)) << error;
    if (r.process().exe() == SANDBOX_PROG) reports.push_back(r);
  }
  return reports;
}

void ExpectSite(const Report& r, const std::string& function, uint64_t bytes, uint64_t count) {
  for (const report::Site& s : r.sites())
    if (s.frames_size() && r.frames(int(s.frames(0))).function() == function) {
      EXPECT_EQ(s.live_bytes(), bytes) << function;
      EXPECT_EQ(s.live_allocations(), count) << function;
      return;
    }
  ADD_FAILURE() << "no site at " << function;
}

// Whether `output` has the line `leakscope: pid P<what>` for some pid P.
bool SaysForSomePid(const std::string& output, const std::string& what) {
  for (size_t at = output.find("leakscope: pid "); at != std::string::npos;
       at = output.find("leakscope: pid ", at + 1)) {
    size_t p = at + 15;
    while (p < output.size() && isdigit(static_cast<unsigned char>(output[p]))) ++p;
    if (output.compare(p, what.size(), what) == 0) return true;
  }
  return false;
}

// The parent filters its own thread, then forks: the child's stream would
// need a new socket. The shim used to make it: the child died of SIGSYS.
TEST(Sandbox, AChildForkedInSeccompModeIsNotKilledAndSaysWhatItLost) {
  const ProcessResult bare = RunProcess(Command({"fork"}));
  ASSERT_EQ(bare.exit_status, 0) << bare.output;
  ASSERT_EQ(bare.output, "child exited 0\ndone\n");

  Daemon daemon(LEAKSCOPED_BIN);
  ASSERT_TRUE(daemon.ok()) << daemon.said();
  const ProcessResult run = RunProcess(Command({"fork"}), Preloaded(daemon));
  daemon.Stop();
  EXPECT_EQ(run.exit_status, 0) << run.output;
  // The child's two lines on stderr come first (stdout is written at exit).
  EXPECT_NE(run.output.find("child exited 0\ndone\n"), std::string::npos) << run.output;
  EXPECT_TRUE(SaysForSomePid(run.output, kOutage)) << run.output;
  // What the child recorded: leak_child's two mallocs.
  EXPECT_TRUE(
      SaysForSomePid(run.output, ": 2 events not recorded (no collector in seccomp mode)\n"))
      << run.output;
  // The parent's report is whole.
  const std::vector<Report> reports = ReportsIn(daemon.dir());
  ASSERT_EQ(reports.size(), 1u) << run.output;
  EXPECT_EQ(reports[0].process().exit_status(), 0);
  EXPECT_EQ(reports[0].dropped_events(), 0u);
  ExpectSite(reports[0], "leak_before", 5 * 40, 5);
  ExpectSite(reports[0], "leak_after", 3 * 24, 3);
}

// Every thread filtered (TSYNC, the drain thread too); the collector is
// restarted while the program runs. The shim used to reconnect: SIGSYS.
TEST(Sandbox, AProgramInSeccompModeOutlivesARestartOfItsCollector) {
  ScratchDir fifos;
  const std::string ready = fifos.path() + "/ready", go = fifos.path() + "/go";
  ASSERT_EQ(mkfifo(ready.c_str(), 0600), 0);
  ASSERT_EQ(mkfifo(go.c_str(), 0600), 0);
  Daemon first(LEAKSCOPED_BIN);
  ASSERT_TRUE(first.ok()) << first.said();
  ProcessResult run;
  std::thread program([&] {
    run = RunProcess(Command({"restart", fifos.path()}), Preloaded(first));
  });
  {
    // The program is in seccomp mode once it opens the FIFO.
    const int fd = open(ready.c_str(), O_RDONLY);
    char c = 0;
    EXPECT_EQ(read(fd, &c, 1), 1);
    close(fd);
  }
  first.Stop();  // its report of the program: what came before
  Daemon second(LEAKSCOPED_BIN, {"--socket", first.socket()});
  ASSERT_TRUE(second.ok()) << second.said();
  {
    const int fd = open(go.c_str(), O_WRONLY);
    EXPECT_EQ(write(fd, "g", 1), 1);
    close(fd);
  }
  program.join();
  second.Stop();
  EXPECT_EQ(run.exit_status, 0) << run.output;
  EXPECT_NE(run.output.find("done\n"), std::string::npos) << run.output;
  EXPECT_TRUE(SaysForSomePid(run.output, kOutage)) << run.output;
  EXPECT_NE(run.output.find(" events not recorded (no collector in seccomp mode)\n"),
            std::string::npos)
      << run.output;
  // The first collector saw leak_before; the second, no stream at all.
  const std::vector<Report> before = ReportsIn(first.dir());
  ASSERT_EQ(before.size(), 1u) << run.output;
  ExpectSite(before[0], "leak_before", 5 * 40, 5);
  EXPECT_TRUE(ReportsIn(second.dir()).empty()) << run.output;
}

}  // namespace
}  // namespace leakscope
