// Signals sent to `leakscope run` while the command runs: SIGUSR1 and SIGHUP
// used to kill it (no report, the command left running untraced). They are
// passed on to the command, and run writes the whole report once it exits.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "cli_runner.h"
#include "report_file.h"
#include "site_sums.h"

namespace leakscope::viewer {
namespace {

using testing::TempDir;

// One line from `fd`, without its newline ("" at end of file).
std::string ReadLine(int fd) {
  std::string line;
  char c;
  for (ssize_t n; (n = read(fd, &c, 1)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || c == '\n') break;
    line += c;
  }
  return line;
}

TEST(RunSignals, Sigusr1AndSighupReachTheCommandAndRunWritesTheWholeReport) {
  TempDir out;
  int from_child[2];
  ASSERT_EQ(pipe(from_child), 0);
  const pid_t run = fork();
  ASSERT_GE(run, 0);
  if (run == 0) {
    dup2(from_child[1], STDOUT_FILENO);
    close(from_child[0]);
    close(from_child[1]);
    execl(LEAKSCOPE_BIN, LEAKSCOPE_BIN, "run", "-o", out.path().c_str(), "--", SIGNAL_CHILD,
          static_cast<char*>(nullptr));
    _exit(251);
  }
  close(from_child[1]);
  EXPECT_EQ(ReadLine(from_child[0]), "ready");  // its handlers are in
  ASSERT_EQ(kill(run, SIGUSR1), 0);
  EXPECT_EQ(ReadLine(from_child[0]), "got USR1");
  ASSERT_EQ(kill(run, SIGHUP), 0);
  EXPECT_EQ(ReadLine(from_child[0]), "got HUP");
  EXPECT_EQ(ReadLine(from_child[0]), "");
  close(from_child[0]);
  int status = 0;
  ASSERT_EQ(waitpid(run, &status, 0), run);
  ASSERT_TRUE(WIFEXITED(status)) << "run killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 7);  // the command's

  const std::vector<std::string> files = out.Files();
  ASSERT_EQ(files.size(), 1u);
  report::Report r;
  std::string error;
  ASSERT_TRUE(report::ReadReportFile(out.path() + "/" + files[0], &r, &error)) << error;
  EXPECT_EQ(r.process().end(), report::Process::EXITED);
  EXPECT_EQ(r.process().exit_status(), 7);
  EXPECT_EQ(r.dropped_events(), 0u);
  EXPECT_EQ(r.totals().possibly_missing_ms(), 0u);
  // One site per call (two call sites in main).
  const testing::LiveSum live = testing::LiveWhereInnermost(r, "leak_per_signal");
  EXPECT_EQ(live.bytes, 2u * 64u);
  EXPECT_EQ(live.allocations, 2u);
}

}  // namespace
}  // namespace leakscope::viewer
