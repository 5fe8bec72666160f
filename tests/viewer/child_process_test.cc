#include "child_process.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cerrno>
#include <fstream>
#include <string>

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

TEST(SpawnCommand, ReportsExecFailure) {
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

// execvpe's fallback: an executable file without "#!" is run by /bin/sh
// (posix_spawnp would fail it with ENOEXEC).
TEST(SpawnCommand, AScriptWithoutInterpreterLineRunsInTheShell) {
  PrivateDir dir;
  std::string error;
  ASSERT_TRUE(dir.Create(&error)) << error;
  const std::string script = dir.path() + "/script";
  FILE* f = fopen(script.c_str(), "w");
  ASSERT_NE(f, nullptr);
  fputs("exit 7\n", f);
  fclose(f);
  ASSERT_EQ(chmod(script.c_str(), 0700), 0);
  SignalForwarding forwarding;
  Spawned spawned;
  ASSERT_TRUE(SpawnCommand({script}, {}, &spawned, &error)) << error;
  ASSERT_EQ(spawned.exec_errno, 0);
  EXPECT_EQ(ShellExitStatus(WaitForwardingSignals(spawned.pid, &forwarding)), 7);
}

// This process's "SigBlk:\t...\nSigIgn:\t...\n" lines of /proc/self/status
// (the calling thread's mask; the process's ignored signals).
std::string MaskAndIgnoredLines() {
  std::ifstream status("/proc/thread-self/status");
  std::string line, blocked, ignored;
  while (std::getline(status, line)) {
    if (line.rfind("SigBlk:\t", 0) == 0) blocked = line;
    if (line.rfind("SigIgn:\t", 0) == 0) ignored = line;
  }
  return blocked + "\n" + ignored + "\n";
}

// The child shares our memory until exec, with every signal blocked
// meanwhile: the command still starts with the mask and the ignored signals
// `run` was started with, not those of the spawn or of SignalForwarding.
// Compared with this process's own, whatever the test was started with (a
// background job of a shell also ignores SIGINT and SIGQUIT).
TEST(SpawnCommand, TheCommandStartsWithTheMaskAndIgnoredSignalsOfBefore) {
  sigset_t usr1, saved_mask;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  ASSERT_EQ(sigprocmask(SIG_BLOCK, &usr1, &saved_mask), 0);
  struct sigaction ignore = {}, saved_hup = {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGHUP, &ignore, &saved_hup), 0);
  const std::string before = MaskAndIgnoredLines();
  int status = -1;
  {
    SignalForwarding forwarding;
    Spawned spawned;
    std::string error;
    // As a pattern: the values are hex digits, the separators PCRE escapes.
    std::string pattern;
    for (char c : before) pattern += c == '\t' ? "\\t" : c == '\n' ? "\\n" : std::string(1, c);
    ASSERT_TRUE(SpawnCommand({"/bin/grep", "-q", "-z", "-P", pattern, "/proc/self/status"}, {},
                             &spawned, &error))
        << error;
    ASSERT_EQ(spawned.exec_errno, 0);
    status = ShellExitStatus(WaitForwardingSignals(spawned.pid, &forwarding));
  }
  sigaction(SIGHUP, &saved_hup, nullptr);
  sigprocmask(SIG_SETMASK, &saved_mask, nullptr);
  // SIGHUP is bit 0 (1), SIGUSR1 bit 9 (0x200): both are in what the command must have.
  const size_t blk = before.find("SigBlk:\t");
  const size_t ign = before.find("SigIgn:\t");
  ASSERT_NE(blk, std::string::npos) << before;
  ASSERT_NE(ign, std::string::npos) << before;
  EXPECT_NE(std::stoull(before.substr(blk + 8, 16), nullptr, 16) & 0x200, 0u) << before;
  EXPECT_NE(std::stoull(before.substr(ign + 8, 16), nullptr, 16) & 0x1, 0u) << before;
  EXPECT_EQ(status, 0) << "the command's status lines differ from\n" << before;
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
