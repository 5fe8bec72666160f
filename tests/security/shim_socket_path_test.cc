// The shim never connects to a LEAKSCOPE_SOCKET cut to fit a Unix socket
// path: the cut path names another socket, one the user never chose.
#include <gtest/gtest.h>
#include <sys/un.h>

#include <string>

#include "run_process.h"

namespace leakscope::security {
namespace {

using api_testing::Daemon;
using api_testing::FilesEndingWith;
using api_testing::RunProcess;
using api_testing::ScratchDir;

// LEAKSCOPE_SOCKET one path component longer than sun_path holds: cut to
// 107 bytes it names a live daemon's socket, which must get nothing.
TEST(ShimSocketPath, TooLongForAUnixSocketIsRefusedNotCut) {
  const size_t max = sizeof(sockaddr_un{}.sun_path) - 1;
  const std::string dir_name = "/tmp/leakscope-daemon-XXXXXX";  // Daemon's, as long
  Daemon daemon(LEAKSCOPED_PATH, {}, std::string(max - dir_name.size() - 1, 's'));
  ASSERT_TRUE(daemon.ok()) << daemon.said();
  ASSERT_EQ(daemon.socket().size(), max);
  const std::string too_long = daemon.socket() + "/deeper";
  ScratchDir dir;
  const auto r = RunProcess({API_PROGRAM_PATH, dir.path() + "/x.lsr"},
                            {"LD_PRELOAD=" LEAKSCOPE_SHIM_PATH, "LEAKSCOPE_SOCKET=" + too_long});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(r.output, "leakscope: LEAKSCOPE_SOCKET is " + std::to_string(too_long.size()) +
                          " bytes, longer than a Unix socket path allows (" + std::to_string(max) +
                          "): not tracing\n"
                          "active 0\n"
                          "mark status 1\n"
                          "live status 1 bytes 0 allocations 0 sites 0 estimated 0\n"
                          "after pause status 1 bytes 0\n"
                          "pool status 1 bytes 0\n"
                          "pool freed status 1 bytes 0\n"
                          "snapshot 1\n");
  daemon.Stop();
  EXPECT_EQ(FilesEndingWith(daemon.dir(), ".lsr"), std::vector<std::string>{});
}

}  // namespace
}  // namespace leakscope::security
