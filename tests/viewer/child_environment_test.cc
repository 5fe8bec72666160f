#include "child_environment.h"

#include <gtest/gtest.h>

namespace leakscope::viewer {
namespace {

using Env = std::vector<std::string>;

TEST(ChildEnvironment, AddsShimSocketAndInterval) {
  const char* parent[] = {"HOME=/root", "PATH=/bin", nullptr};
  EXPECT_EQ(BuildChildEnvironment(parent, {"/l/libleakscope.so", "/t/s.sock", 4096}),
            (Env{"HOME=/root", "PATH=/bin", "LD_PRELOAD=/l/libleakscope.so",
                 "LEAKSCOPE_SOCKET=/t/s.sock", "LEAKSCOPE_SAMPLE_INTERVAL=4096"}));
}

TEST(ChildEnvironment, PrependsToExistingPreloadAndReplacesOurVariables) {
  const char* parent[] = {"LD_PRELOAD=/x/libjemalloc.so", "LEAKSCOPE_SOCKET=/old",
                          "LEAKSCOPE_SAMPLE_INTERVAL=1", "LD_PRELOADX=keep", nullptr};
  EXPECT_EQ(BuildChildEnvironment(parent, {"/l/shim.so", "/t/s.sock", 0}),
            (Env{"LEAKSCOPE_SAMPLE_INTERVAL=1", "LD_PRELOADX=keep",
                 "LD_PRELOAD=/l/shim.so:/x/libjemalloc.so", "LEAKSCOPE_SOCKET=/t/s.sock"}));
}

TEST(ChildEnvironment, LosslessAndNoFollowWhenAsked) {
  const char* parent[] = {nullptr};
  EXPECT_EQ(BuildChildEnvironment(parent, {"/l/shim.so", "/s", 0, true, true}),
            (Env{"LD_PRELOAD=/l/shim.so", "LEAKSCOPE_SOCKET=/s", "LEAKSCOPE_SAMPLE_INTERVAL=1",
                 "LEAKSCOPE_LOSSLESS=1", "LEAKSCOPE_NO_FOLLOW=1"}));
}

TEST(ChildEnvironment, AnInheritedLosslessSettingWins) {
  const char* parent[] = {"LEAKSCOPE_LOSSLESS=0", nullptr};
  EXPECT_EQ(BuildChildEnvironment(parent, {"/l/shim.so", "/s", 0, true, false}),
            (Env{"LEAKSCOPE_LOSSLESS=0", "LD_PRELOAD=/l/shim.so", "LEAKSCOPE_SOCKET=/s",
                 "LEAKSCOPE_SAMPLE_INTERVAL=1"}));
}

TEST(ChildEnvironment, EmptyPreloadIsNotKept) {
  const char* parent[] = {"LD_PRELOAD=", nullptr};
  EXPECT_EQ(BuildChildEnvironment(parent, {"/l/shim.so", "/s", 0}),
            (Env{"LD_PRELOAD=/l/shim.so", "LEAKSCOPE_SOCKET=/s", "LEAKSCOPE_SAMPLE_INTERVAL=1"}));
}

}  // namespace
}  // namespace leakscope::viewer
