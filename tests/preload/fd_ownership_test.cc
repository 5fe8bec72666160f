// The shim keeps a socket (and libunwind a pipe) in the traced program's
// descriptor table. A program that closes every descriptor, dup2s over the
// shim's, or a bash script's `exec 3>file` took those numbers for its own
// files: the shim then wrote its frames there or closed them. Each program
// runs bare and under `leakscope run`: the same output, the same log file,
// and every leak in the reports, none dropped.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "report_file.h"
#include "run_process.h"

namespace leakscope {
namespace {

using api_testing::FilesEndingWith;
using api_testing::ProcessResult;
using api_testing::RunProcess;
using api_testing::ScratchDir;
using report::Process;
using report::Report;

constexpr const char* kTimeout = "60";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The programs start with descriptors 0-2 only, as from a shell: what the
// test runner left open (ctest does) would otherwise take 3, and the shim's
// socket would land elsewhere.
void InheritOnlyStdio() {
  DIR* dir = opendir("/proc/self/fd");
  ASSERT_NE(dir, nullptr);
  for (dirent* e; (e = readdir(dir)) != nullptr;) {
    const int fd = atoi(e->d_name);
    if (fd > 2) fcntl(fd, F_SETFD, FD_CLOEXEC);
  }
  closedir(dir);
}

struct TracedRun {
  ProcessResult result;
  std::string log;  // the file the program wrote
  std::vector<Report> reports;
};

TracedRun RunBare(const std::vector<std::string>& command) {
  ScratchDir dir;
  TracedRun run;
  std::vector<std::string> argv = {"/usr/bin/timeout", "-s", "KILL", kTimeout};
  argv.insert(argv.end(), command.begin(), command.end());
  argv.push_back(dir.path() + "/log");
  run.result = RunProcess(argv);
  run.log = ReadFile(dir.path() + "/log");
  return run;
}

TracedRun RunTraced(const std::vector<std::string>& command) {
  InheritOnlyStdio();
  ScratchDir dir;
  TracedRun run;
  std::vector<std::string> argv = {
      "/usr/bin/timeout", "-s", "KILL", kTimeout, LEAKSCOPE_BIN, "run", "-o", dir.path(), "--"};
  argv.insert(argv.end(), command.begin(), command.end());
  argv.push_back(dir.path() + "/log");
  run.result = RunProcess(argv);
  run.log = ReadFile(dir.path() + "/log");
  for (const std::string& name : FilesEndingWith(dir.path(), ".lsr")) {
    Report r;
    std::string error;
    EXPECT_TRUE(report::ReadReportFile(dir.path() + "/" + name, &r, &error)) << error;
    run.reports.push_back(r);
  }
  return run;
}

// Live bytes and allocations of the sites whose function is leak_*.
std::map<std::string, std::pair<uint64_t, uint64_t>> LeaksOf(const Report& r) {
  std::map<std::string, std::pair<uint64_t, uint64_t>> leaks;
  for (const report::Site& s : r.sites()) {
    if (!s.frames_size()) continue;
    const std::string& f = r.frames(int(s.frames(0))).function();
    if (f.rfind("leak_", 0) == 0) leaks[f] = {s.live_bytes(), s.live_allocations()};
  }
  return leaks;
}

// The program's own line, before `leakscope run`'s summary.
std::string FirstLine(const std::string& output) {
  return output.substr(0, output.find('\n') + 1);
}

void ExpectUnharmed(const std::string& mode) {
  const TracedRun bare = RunBare({FD_PROG, mode});
  ASSERT_EQ(bare.result.exit_status, 0) << bare.result.output;
  ASSERT_EQ(bare.result.output, "wrote 40 lines\n");
  ASSERT_EQ(std::count(bare.log.begin(), bare.log.end(), '\n'), 40) << bare.log;

  const TracedRun run = RunTraced({FD_PROG, mode});
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(FirstLine(run.result.output), bare.result.output) << run.result.output;
  EXPECT_EQ(run.log, bare.log);
  // The first stream ended when the program closed the socket: its report
  // has leak_before (the program waited for the collector to have it), and
  // says the stream ended without a goodbye. The shim went on with a second
  // stream: leak_after and the exit. Nothing lost.
  ASSERT_EQ(run.reports.size(), 2u) << run.result.output;
  const Report* cut = &run.reports[0];
  const Report* rest = &run.reports[1];
  if (cut->process().end() != Process::DISCONNECTED) std::swap(cut, rest);
  EXPECT_EQ(cut->process().end(), Process::DISCONNECTED);
  EXPECT_EQ(rest->process().end(), Process::EXITED);
  EXPECT_EQ(rest->process().exit_status(), 0);
  EXPECT_EQ(rest->process().how(), "return from main");  // the goodbye reached the collector
  EXPECT_EQ(cut->process().pid(), rest->process().pid());
  using Leaks = std::map<std::string, std::pair<uint64_t, uint64_t>>;
  EXPECT_EQ(LeaksOf(*cut), (Leaks{{"leak_before", {5 * 40, 5}}}));
  EXPECT_EQ(LeaksOf(*rest), (Leaks{{"leak_after", {3 * 24, 3}}}));
  EXPECT_EQ(cut->dropped_events(), 0u);
  EXPECT_EQ(rest->dropped_events(), 0u);
}

// Like a daemon: closes every descriptor from 3 to 1024, then opens its log.
TEST(FdOwnership, ADaemonThatClosesEveryDescriptorKeepsItsLogAndEveryLeakIsReported) {
  ExpectUnharmed("closeall");
}

// Puts its log at the number of the shim's socket with dup2.
TEST(FdOwnership, AFileDup2dOverTheShimsSocketKeepsItsLinesAndEveryLeakIsReported) {
  ExpectUnharmed("dup2");
}

// bash's `exec 3>file`: the shim's socket (or libunwind's pipe) was at 3.
// Each $(...) forks, and the shim sent what bash recorded before the fork
// into the script's file: ENOTSOCK, and the shim closed it. The lines were
// lost (all 40 of them), and leakscoped read the script's text as a frame.
TEST(FdOwnership, BashExecToDescriptor3WritesAllItsLines) {
  const std::string script =
      "exec 3>\"$1\"; for i in $(seq 1 40); do echo \"line $i\" >&3; n=$(echo $i); done; "
      "exec 3>&-; echo done";
  const TracedRun bare = RunBare({"/bin/bash", "-c", script, "bash"});
  ASSERT_EQ(bare.result.exit_status, 0) << bare.result.output;
  ASSERT_EQ(bare.result.output, "done\n");
  ASSERT_EQ(std::count(bare.log.begin(), bare.log.end(), '\n'), 40) << bare.log;

  const TracedRun run = RunTraced({"/bin/bash", "-c", script, "bash"});
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(FirstLine(run.result.output), "done\n") << run.result.output;
  EXPECT_EQ(run.log, bare.log);
  EXPECT_EQ(run.result.output.find("leakscoped:"), std::string::npos) << run.result.output;
  // bash, the subshell of $(seq ...) and seq: nothing lost, and bash's own
  // stream ended with its exit.
  ASSERT_FALSE(run.reports.empty());
  int exited = 0;
  for (const Report& r : run.reports) {
    EXPECT_EQ(r.dropped_events(), 0u) << r.process().exe();
    exited += r.process().end() == Process::EXITED && r.process().how() == "exit";
  }
  EXPECT_GE(exited, 1) << run.result.output;
}

}  // namespace
}  // namespace leakscope
