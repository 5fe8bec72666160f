#include "page_marks.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <thread>
#include <vector>

namespace leakscope::preload {
namespace {

const void* At(uintptr_t a) {
  return reinterpret_cast<const void*>(a);
}

TEST(PageMarks, CountsPointersPerPageAndClearsWhenTheLastGoes) {
  static PageMarks marks;
  EXPECT_FALSE(marks.MayHold(At(0x7f0000001000)));
  marks.Add(At(0x7f0000001010));
  marks.Add(At(0x7f0000001ff0));  // same page
  EXPECT_TRUE(marks.MayHold(At(0x7f0000001800)));
  EXPECT_FALSE(marks.MayHold(At(0x7f0000002000)));  // the next page
  EXPECT_FALSE(marks.MayHold(At(0x7f0000000ff0)));  // the previous one
  marks.Remove(At(0x7f0000001010));
  EXPECT_TRUE(marks.MayHold(At(0x7f0000001ff0)));
  marks.Remove(At(0x7f0000001ff0));
  EXPECT_FALSE(marks.MayHold(At(0x7f0000001ff0)));
}

TEST(PageMarks, PagesTwoHundredFiftySixMebibytesApartShareACount) {
  static PageMarks marks;
  const uintptr_t a = 0x7f0000005000, alias = a + (uintptr_t{1} << 28);
  marks.Add(At(a));
  EXPECT_TRUE(marks.MayHold(At(alias)));  // a false positive: the set answers
  EXPECT_EQ(marks.CountForTest(At(alias)), 1);
  marks.Remove(At(a));
  EXPECT_FALSE(marks.MayHold(At(alias)));
}

TEST(PageMarks, AFullCountSticksAndNeverReadsZeroAgain) {
  static PageMarks marks;
  const void* p = At(0x7f0000009000);
  for (int i = 0; i < 0xFFFF + 10; ++i) marks.Add(p);
  EXPECT_EQ(marks.CountForTest(p), PageMarks::kStuck);
  for (int i = 0; i < 0xFFFF + 10; ++i) marks.Remove(p);
  EXPECT_EQ(marks.CountForTest(p), PageMarks::kStuck);
  EXPECT_TRUE(marks.MayHold(p));
}

TEST(PageMarks, ConcurrentAddsAndRemovesBalance) {
  static PageMarks marks;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([] {
      for (int i = 0; i < 20000; ++i) {
        marks.Add(At(0x7f000000a000 + 16 * (i % 256)));
        marks.Remove(At(0x7f000000a000 + 16 * (i % 256)));
      }
    });
  }
  marks.Add(At(0x7f000000a000));  // one that stays
  for (auto& t : threads) t.join();
  EXPECT_EQ(marks.CountForTest(At(0x7f000000a000)), 1);
}

}  // namespace
}  // namespace leakscope::preload
