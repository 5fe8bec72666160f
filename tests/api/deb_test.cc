// The Debian package: cpack builds it from this build directory, dpkg -x
// unpacks it into a scratch root (no root needed), and the unpacked
// `leakscope run` finds its own shim (bin/../lib) and catches a leak in a
// test suite that uses the unpacked header's API.
#include <gtest/gtest.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "run_process.h"

namespace leakscope::api_testing {
namespace {

std::string FindDeb(const std::string& dir) {
  const std::vector<std::string> debs = FilesEndingWith(dir, ".deb");
  return debs.size() == 1 ? dir + "/" + debs[0] : "";
}

bool Exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

// One test: cpack takes a while, and each test case is its own process.
TEST(DebPackage, BuildsUnpacksAndRuns) {
  ScratchDir scratch;
  const std::string out = scratch.path() + "/pkg";
  ProcessResult packed =
      RunProcess({CPACK_PATH, "--config", BUILD_DIR "/CPackConfig.cmake", "-G", "DEB", "-B", out});
  ASSERT_EQ(packed.exit_status, 0) << packed.output;
  const std::string deb = FindDeb(out);
  ASSERT_EQ(deb.substr(deb.rfind('/') + 1).substr(0, 16), "leakscope_" LEAKSCOPE_VERSION "_")
      << packed.output;

  ProcessResult depends = RunProcess({"/usr/bin/dpkg-deb", "-f", deb, "Depends"});
  EXPECT_EQ(depends.exit_status, 0);
  EXPECT_EQ(depends.output,
            "libc6, libstdc++6, libgcc-s1, libunwind8, libprotobuf32, libdw1, libelf1, "
            "liblz4-1, zlib1g, libmimalloc2.0\n");

  const std::string root = scratch.path() + "/root";
  ASSERT_EQ(RunProcess({"/usr/bin/dpkg", "-x", deb, root}).exit_status, 0);
  for (const char* path : {"/usr/bin/leakscope", "/usr/bin/leakscoped", "/usr/lib/libleakscope.so",
                           "/usr/include/leakscope.h", "/usr/include/leakscope_gtest.h",
                           "/usr/lib/libleakscope_gtest.a", "/usr/lib/libleakscope_gtest_main.a",
                           "/usr/lib/cmake/leakscope/leakscopeConfig.cmake"})
    EXPECT_TRUE(Exists(root + path)) << path;

  // The unpacked command finds the unpacked shim (bin/../lib), nothing else.
  ScratchDir reports;
  ProcessResult run = RunProcess({root + "/usr/bin/leakscope", "run", "-o", reports.path(), "--",
                                  LEAKY_SUITE_PATH, "--gtest_filter=Suite.Leaks"},
                                 {"LEAKSCOPE_PRELOAD="});
  EXPECT_EQ(run.exit_status, 1) << run.output;
  EXPECT_EQ(LinesWith(run.output, "leakscope: this test leaked"),
            std::vector<std::string>{"leakscope: this test leaked 48 bytes in 1 allocation"})
      << run.output;

  ProcessResult help = RunProcess({root + "/usr/bin/leakscoped", "--help"});
  EXPECT_EQ(help.exit_status, 0) << help.output;
  EXPECT_EQ(LinesWith(help.output, "usage: leakscoped").size(), 1u) << help.output;
}

}  // namespace
}  // namespace leakscope::api_testing
