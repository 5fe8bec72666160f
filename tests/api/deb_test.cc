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

class DebPackage : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    scratch_ = new ScratchDir();
    const std::string out = scratch_->path() + "/pkg";
    packed_ = new ProcessResult(RunProcess(
        {CPACK_PATH, "--config", BUILD_DIR "/CPackConfig.cmake", "-G", "DEB", "-B", out}));
    deb_ = FindDeb(out);
    root_ = scratch_->path() + "/root";
    if (!deb_.empty()) RunProcess({"/usr/bin/dpkg", "-x", deb_, root_});
  }
  static void TearDownTestSuite() {
    delete packed_;
    delete scratch_;
  }
  static ScratchDir* scratch_;
  static ProcessResult* packed_;
  static std::string deb_, root_;
};
ScratchDir* DebPackage::scratch_;
ProcessResult* DebPackage::packed_;
std::string DebPackage::deb_, DebPackage::root_;

TEST_F(DebPackage, IsBuilt) {
  EXPECT_EQ(packed_->exit_status, 0) << packed_->output;
  EXPECT_EQ(deb_.substr(deb_.rfind('/') + 1).substr(0, 16), "leakscope_" LEAKSCOPE_VERSION "_")
      << packed_->output;
}

TEST_F(DebPackage, DependsOnTheRuntimeLibraries) {
  ProcessResult r = RunProcess({"/usr/bin/dpkg-deb", "-f", deb_, "Depends"});
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_EQ(r.output,
            "libc6, libstdc++6, libgcc-s1, libunwind8, libprotobuf32, libdw1, libelf1, "
            "liblz4-1, zlib1g, libmimalloc2.0\n");
}

TEST_F(DebPackage, HoldsCommandsShimHeadersAndGtestLibrary) {
  for (const char* path : {"/usr/bin/leakscope", "/usr/bin/leakscoped", "/usr/lib/libleakscope.so",
                           "/usr/include/leakscope.h", "/usr/include/leakscope_gtest.h",
                           "/usr/lib/libleakscope_gtest.a", "/usr/lib/libleakscope_gtest_main.a",
                           "/usr/lib/cmake/leakscope/leakscopeConfig.cmake"})
    EXPECT_TRUE(Exists(root_ + path)) << path;
}

TEST_F(DebPackage, UnpackedLeakscopeRunCatchesALeakingTest) {
  ScratchDir reports;
  ProcessResult r = RunProcess({root_ + "/usr/bin/leakscope", "run", "-o", reports.path(), "--",
                                LEAKY_SUITE_PATH, "--gtest_filter=Suite.Leaks"},
                               {"LEAKSCOPE_PRELOAD="});
  EXPECT_EQ(r.exit_status, 1) << r.output;
  EXPECT_EQ(LinesWith(r.output, "leakscope: this test leaked"),
            std::vector<std::string>{"leakscope: this test leaked 48 bytes in 1 allocation"})
      << r.output;
}

TEST_F(DebPackage, UnpackedDaemonAnswersHelp) {
  ProcessResult r = RunProcess({root_ + "/usr/bin/leakscoped", "--help"});
  EXPECT_EQ(r.exit_status, 0) << r.output;
  EXPECT_EQ(LinesWith(r.output, "usage: leakscoped").size(), 1u) << r.output;
}

}  // namespace
}  // namespace leakscope::api_testing
