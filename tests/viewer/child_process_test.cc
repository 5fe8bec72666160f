#include "child_process.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>

#include "private_dir.h"

namespace leakscope::viewer {
namespace {

// Wait statuses as the kernel encodes them (wait(2)): exit code in bits 8-15,
// terminating signal in bits 0-6.
TEST(ShellExitStatus, ExitCodeOr128PlusSignal) {
  EXPECT_EQ(ShellExitStatus(3 << 8), 3);
  EXPECT_EQ(ShellExitStatus(0), 0);
  EXPECT_EQ(ShellExitStatus(9), 137);   // SIGKILL
  EXPECT_EQ(ShellExitStatus(15), 143);  // SIGTERM
}

TEST(SpawnCommand, ReportsExecFailureThroughThePipe) {
  Spawned spawned;
  std::string error;
  ASSERT_TRUE(SpawnCommand({"/nonexistent/leakscope-test"}, {}, &spawned, &error)) << error;
  EXPECT_EQ(spawned.exec_errno, ENOENT);
  EXPECT_EQ(spawned.pid, -1);
}

TEST(SpawnCommand, RunsWithExactlyTheGivenEnvironment) {
  SignalForwarding forwarding;
  Spawned spawned;
  std::string error;
  // Exits 0 only if FOO is exactly "bar" and HOME is not inherited.
  ASSERT_TRUE(SpawnCommand({"/bin/sh", "-c", "test \"$FOO\" = bar && test -z \"$HOME\""},
                           {"FOO=bar"}, &spawned, &error))
      << error;
  ASSERT_EQ(spawned.exec_errno, 0);
  EXPECT_EQ(ShellExitStatus(WaitForwardingSignals(spawned.pid, &forwarding)), 0);
}

TEST(PrivateDir, OnlyOwnerCanEnterAndItIsRemovedWithItsFiles) {
  std::string path;
  {
    PrivateDir dir;
    std::string error;
    ASSERT_TRUE(dir.Create(&error)) << error;
    path = dir.path();
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    FILE* f = fopen((path + "/collector.sock").c_str(), "w");
    ASSERT_NE(f, nullptr);
    fclose(f);
  }
  struct stat st;
  EXPECT_NE(stat(path.c_str(), &st), 0);
}

}  // namespace
}  // namespace leakscope::viewer
