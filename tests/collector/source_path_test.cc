#include "source_path.h"

#include <gtest/gtest.h>

namespace leakscope::collector {
namespace {

TEST(CleanSourcePath, ABuildDirectoryJoinedWithRelativeNamesIsFolded) {
  EXPECT_EQ(CleanSourcePath("/work/p/build/tests/api/../../../tests/api/leaky_suite.cc"),
            "/work/p/tests/api/leaky_suite.cc");
}

TEST(CleanSourcePath, DotsAndRepeatedSlashesGo) {
  EXPECT_EQ(CleanSourcePath("/a/./b//c.cc"), "/a/b/c.cc");
  EXPECT_EQ(CleanSourcePath("./a.cc"), "a.cc");
}

TEST(CleanSourcePath, AboveTheRootIsTheRoot) {
  EXPECT_EQ(CleanSourcePath("/../../a.cc"), "/a.cc");
}

TEST(CleanSourcePath, ARelativeNameKeepsWhatItCannotResolve) {
  EXPECT_EQ(CleanSourcePath("../../src/a.cc"), "../../src/a.cc");
  EXPECT_EQ(CleanSourcePath("x/../../a.cc"), "../a.cc");
}

TEST(CleanSourcePath, CleanNamesAreUnchanged) {
  EXPECT_EQ(CleanSourcePath("/usr/include/c++/12/bits/new_allocator.h"),
            "/usr/include/c++/12/bits/new_allocator.h");
  EXPECT_EQ(CleanSourcePath(""), "");
  EXPECT_EQ(CleanSourcePath("/"), "/");
}

}  // namespace
}  // namespace leakscope::collector
