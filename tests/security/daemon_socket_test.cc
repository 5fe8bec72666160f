// One daemon per socket: a second leakscoped on a live socket refuses to
// start; a stale socket file is replaced; a daemon removes the socket at
// exit only if it is still its own.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "run_process.h"

namespace leakscope::security {
namespace {

using api_testing::Daemon;
using api_testing::RunProcess;
using api_testing::ScratchDir;

bool Connects(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  const bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

ino_t Inode(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

TEST(DaemonSocket, ASecondDaemonOnALiveSocketRefusesToStart) {
  Daemon first(LEAKSCOPED_PATH);
  ASSERT_TRUE(first.ok()) << first.said();
  const ino_t inode = Inode(first.socket());
  ScratchDir other;
  // `timeout`: a second daemon that wrongly starts would serve for ever.
  const auto r = RunProcess({"/usr/bin/timeout", "10", LEAKSCOPED_PATH, "--socket", first.socket(),
                             "--output", other.path()});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.output,
            "leakscoped: " + first.socket() + ": another leakscoped is listening on this socket\n");
  EXPECT_EQ(Inode(first.socket()), inode);
  EXPECT_TRUE(Connects(first.socket()));
}

TEST(DaemonSocket, AStaleSocketFileIsReplaced) {
  ScratchDir dir;
  const std::string path = dir.path() + "/socket";
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  close(fd);  // bound, never listened: nobody answers there
  ASSERT_FALSE(Connects(path));
  Daemon daemon(LEAKSCOPED_PATH, {"--socket", path});
  ASSERT_TRUE(daemon.ok()) << daemon.said();
  EXPECT_TRUE(Connects(path));
}

// The first daemon's socket file was removed by hand and a second daemon
// took the path: stopping the first must leave the second's socket alone.
TEST(DaemonSocket, AtExitADaemonRemovesOnlyItsOwnSocket) {
  Daemon first(LEAKSCOPED_PATH);
  ASSERT_TRUE(first.ok()) << first.said();
  ASSERT_EQ(unlink(first.socket().c_str()), 0);
  Daemon second(LEAKSCOPED_PATH, {"--socket", first.socket()});
  ASSERT_TRUE(second.ok()) << second.said();
  first.Stop();
  EXPECT_NE(Inode(first.socket()), 0u) << "the first daemon removed the second's socket";
  EXPECT_TRUE(Connects(first.socket()));
  second.Stop();
  EXPECT_EQ(Inode(first.socket()), 0u);  // its own: removed
}

}  // namespace
}  // namespace leakscope::security
