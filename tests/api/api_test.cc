// The in-process API from a C program (api_program.c): exact figures under
// the shim with a collector; "not active" without the shim; "no collector"
// when nobody listens; a snapshot report written where it was asked to be.
#include <gtest/gtest.h>

#include <string>

#include "run_process.h"

namespace leakscope::api_testing {
namespace {

const std::string kProgram = API_PROGRAM_PATH;

TEST(ApiProgram, ExactFiguresUnderTheShim) {
  Daemon daemon(LEAKSCOPED_PATH);
  ASSERT_TRUE(daemon.ok());
  ScratchDir dir;
  const std::string snapshot = dir.path() + "/now.lsr";
  ProcessResult r = RunProcess({kProgram, snapshot},
                               {"LD_PRELOAD=" LEAKSCOPE_SHIM_PATH, "LEAKSCOPE_SAMPLE_INTERVAL=1",
                                "LEAKSCOPE_SOCKET=" + daemon.socket()});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(r.output,
            "active 1\n"
            "mark status 0\n"
            "live status 0 bytes 1000 allocations 1 sites 1 estimated 0\n"
            "after pause status 0 bytes 1000\n"
            "pool status 0 bytes 1064\n"
            "pool freed status 0 bytes 1000\n"
            "snapshot 0\n");
  // The snapshot saw KeepThis's 1000 bytes live (and nothing else of the program's).
  EXPECT_EQ(RunProcess({LEAKSCOPE_CLI_PATH, "check", snapshot, "--max-leaked", "1000"}).exit_status,
            0);
  EXPECT_EQ(RunProcess({LEAKSCOPE_CLI_PATH, "check", snapshot, "--max-leaked", "999"}).exit_status,
            1);
}

TEST(ApiProgram, NotActiveWithoutTheShim) {
  ProcessResult r = RunProcess({kProgram, "/nonexistent/x.lsr"}, {"LD_PRELOAD="});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(r.output,
            "active 0\n"
            "mark status 1\n"
            "live status 1 bytes 0 allocations 0 sites 0 estimated 0\n"
            "after pause status 1 bytes 0\n"
            "pool status 1 bytes 0\n"
            "pool freed status 1 bytes 0\n"
            "snapshot 1\n");
}

TEST(ApiProgram, NoCollectorIsSaidNotWaitedFor) {
  ScratchDir dir;
  ProcessResult r =
      RunProcess({kProgram, dir.path() + "/x.lsr"},
                 {"LD_PRELOAD=" LEAKSCOPE_SHIM_PATH, "LEAKSCOPE_SOCKET=" + dir.path() + "/nobody"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(r.output,
            "active 1\n"
            "mark status 2\n"
            "live status 2 bytes 0 allocations 0 sites 0 estimated 0\n"
            "after pause status 2 bytes 0\n"
            "pool status 2 bytes 0\n"
            "pool freed status 2 bytes 0\n"
            "snapshot 2\n");
}

}  // namespace
}  // namespace leakscope::api_testing
