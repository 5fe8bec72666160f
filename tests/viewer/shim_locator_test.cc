#include "shim_locator.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace leakscope::viewer {
namespace {

// A throwaway tree: <root>/bin/leakscope and optionally <root>/lib/libleakscope.so.
class ShimLocatorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/leakscope-shim-test.XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    root_ = templ;
    ASSERT_EQ(mkdir((root_ + "/bin").c_str(), 0700), 0);
    ASSERT_EQ(mkdir((root_ + "/lib").c_str(), 0700), 0);
  }
  void TearDown() override {
    unlink((root_ + "/lib/libleakscope.so").c_str());
    unlink((root_ + "/other.so").c_str());
    rmdir((root_ + "/lib").c_str());
    rmdir((root_ + "/bin").c_str());
    rmdir(root_.c_str());
  }
  std::string Touch(const std::string& relative) {
    const std::string path = root_ + "/" + relative;
    std::ofstream(path) << "x";
    return path;
  }
  std::string root_;
};

TEST_F(ShimLocatorTest, EnvironmentWins) {
  Touch("lib/libleakscope.so");
  const std::string other = Touch("other.so");
  ShimSearch search{other.c_str(), root_ + "/bin/leakscope", "/nonexistent/libleakscope.so"};
  std::string path, error;
  ASSERT_TRUE(LocateShim(search, &path, &error)) << error;
  EXPECT_EQ(path, other);
}

TEST_F(ShimLocatorTest, WrongEnvironmentIsAnErrorNotAFallback) {
  Touch("lib/libleakscope.so");
  ShimSearch search{"/nonexistent/x.so", root_ + "/bin/leakscope", ""};
  std::string path, error;
  EXPECT_FALSE(LocateShim(search, &path, &error));
  EXPECT_EQ(error, "LEAKSCOPE_PRELOAD='/nonexistent/x.so' is not a readable file");
}

TEST_F(ShimLocatorTest, NextToTheExecutable) {
  Touch("lib/libleakscope.so");
  ShimSearch search{nullptr, root_ + "/bin/leakscope", "/nonexistent/libleakscope.so"};
  std::string path, error;
  ASSERT_TRUE(LocateShim(search, &path, &error)) << error;
  EXPECT_EQ(path, root_ + "/bin/../lib/libleakscope.so");
}

TEST_F(ShimLocatorTest, InstalledLocationLast) {
  const std::string installed = Touch("other.so");
  ShimSearch search{nullptr, root_ + "/bin/leakscope", installed};
  std::string path, error;
  ASSERT_TRUE(LocateShim(search, &path, &error)) << error;
  EXPECT_EQ(path, installed);
}

TEST_F(ShimLocatorTest, NowhereToBeFound) {
  ShimSearch search{nullptr, root_ + "/bin/leakscope", "/nonexistent/libleakscope.so"};
  std::string path, error;
  EXPECT_FALSE(LocateShim(search, &path, &error));
  EXPECT_EQ(error, "cannot find libleakscope.so (looked in '" + root_ +
                       "/bin/../lib/libleakscope.so' and '/nonexistent/libleakscope.so'); set "
                       "LEAKSCOPE_PRELOAD to its path");
}

}  // namespace
}  // namespace leakscope::viewer
