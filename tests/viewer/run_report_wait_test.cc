// `leakscope run` waits for the command's report once the command exits. A
// stream still open after that wait's 10 s (a long stream still being read,
// or a process the command started without fork()'s handlers holding its
// socket) used to be reported as "it never connected", and the report was
// left to Stop(). Now run says what it waits for and prints the whole report.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "child_io.h"
#include "cli_runner.h"
#include "report_file.h"
#include "site_sums.h"

namespace leakscope::viewer {
namespace {

using testing::ReadLineWith;
using testing::Spawn;
using testing::TempDir;

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, size_t(n));
  return out;
}

TEST(RunReportWait, AStreamHeldOpenAfterTheCommandExitedIsWaitedForAndSaidSo) {
  TempDir out;
  int to_holder[2], from_run[2];
  // Close-on-exec: only the dup2'd copies may reach run and the holder, or
  // the holder would never read end of file.
  ASSERT_EQ(pipe2(to_holder, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(from_run, O_CLOEXEC), 0);
  const pid_t run = Spawn({LEAKSCOPE_BIN, "run", "-o", out.path(), "--", SOCKET_HOLDER}, {},
                          to_holder[0], from_run[1], from_run[1]);
  ASSERT_GT(run, 0);
  close(to_holder[0]);
  close(from_run[1]);
  // Either wait's line ("Waiting for them to end" was all run used to say).
  const std::string waiting = ReadLineWith(from_run[0], "Waiting for");
  EXPECT_NE(waiting.find("its stream is still open"), std::string::npos) << waiting;
  close(to_holder[1]);  // the holder reads end of file and exits: the stream ends
  const std::string rest = ReadAll(from_run[0]);
  close(from_run[0]);
  int status = 0;
  ASSERT_EQ(waitpid(run, &status, 0), run);
  ASSERT_TRUE(WIFEXITED(status)) << rest;
  EXPECT_EQ(WEXITSTATUS(status), 0) << rest;
  EXPECT_EQ(rest.find("never connected"), std::string::npos) << rest;
  EXPECT_NE(rest.find("leak_before_exit"), std::string::npos) << rest;  // the printed report

  const std::vector<std::string> files = out.Files();
  ASSERT_EQ(files.size(), 1u);
  report::Report r;
  std::string error;
  ASSERT_TRUE(report::ReadReportFile(out.path() + "/" + files[0], &r, &error)) << error;
  EXPECT_EQ(r.process().end(), report::Process::EXITED);
  EXPECT_EQ(r.process().exit_status(), 0);
  EXPECT_EQ(r.process().cut_short(), "");
  const testing::LiveSum live = testing::LiveWhereInnermost(r, "leak_before_exit");
  EXPECT_EQ(live.bytes, 3u * 48u);
  EXPECT_EQ(live.allocations, 3u);
}

}  // namespace
}  // namespace leakscope::viewer
