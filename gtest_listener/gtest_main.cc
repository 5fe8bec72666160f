// GoogleTest's main with the leak check installed (leakscope::gtest_main).
#include <gtest/gtest.h>

#include "leakscope_gtest.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  leakscope::gtest::InstallLeakCheck();
  return RUN_ALL_TESTS();
}
