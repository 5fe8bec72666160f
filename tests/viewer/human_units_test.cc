#include "human_units.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace leakscope::viewer {
namespace {

TEST(HumanBytes, BytesBelowOneKibibyte) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
}

TEST(HumanBytes, OneDecimalInBinaryUnits) {
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");           // 1.5 * 1024
  EXPECT_EQ(HumanBytes(1572864), "1.5 MiB");        // 1.5 * 1024^2
  EXPECT_EQ(HumanBytes(3221225472ull), "3.0 GiB");  // 3 * 1024^3
}

TEST(HumanBytes, NeverPrints1024OfAUnit) {
  EXPECT_EQ(HumanBytes(1048474), "1023.9 KiB");  // 1023.9004 KiB
  EXPECT_EQ(HumanBytes(1048575), "1.0 MiB");     // 1023.999 KiB would read 1024.0 KiB
}

TEST(HumanBytes, LargestValue) {
  EXPECT_EQ(HumanBytes(UINT64_MAX), "16.0 EiB");
}

TEST(WithThousands, GroupsOfThree) {
  EXPECT_EQ(WithThousands(0), "0");
  EXPECT_EQ(WithThousands(999), "999");
  EXPECT_EQ(WithThousands(1000), "1,000");
  EXPECT_EQ(WithThousands(1234567), "1,234,567");
  EXPECT_EQ(WithThousands(UINT64_MAX), "18,446,744,073,709,551,615");
}

TEST(CountOf, SingularOnlyForOne) {
  EXPECT_EQ(CountOf(1, "frame", "frames"), "1 frame");
  EXPECT_EQ(CountOf(0, "frame", "frames"), "0 frames");
  EXPECT_EQ(CountOf(12345, "frame", "frames"), "12,345 frames");
}

}  // namespace
}  // namespace leakscope::viewer
