#include "stack_table.h"

#include <gtest/gtest.h>

#include <vector>

namespace leakscope::preload {
namespace {

TEST(StackTable, SameStackSameIdAndNewOnlyOnce) {
  StackTable table;
  const uint64_t a[3] = {0x401000, 0x402000, 0x403000};
  const uint64_t b[3] = {0x401000, 0x402000, 0x403001};
  bool is_new = false;
  EXPECT_EQ(table.Intern(a, 3, &is_new), 1u);
  EXPECT_TRUE(is_new);
  EXPECT_EQ(table.Intern(b, 3, &is_new), 2u);
  EXPECT_TRUE(is_new);
  EXPECT_EQ(table.Intern(a, 3, &is_new), 1u);
  EXPECT_FALSE(is_new);
  EXPECT_EQ(table.Intern(a, 2, &is_new), 3u);  // a prefix is another stack
  EXPECT_TRUE(is_new);
  EXPECT_EQ(table.Intern(a, 0, &is_new), 4u);  // and so is the empty stack
  EXPECT_EQ(table.size(), 4u);
}

TEST(StackTable, KeepsEveryIdThroughGrowth) {
  StackTable table;
  std::vector<uint32_t> ids;
  for (uint64_t i = 0; i < 50000; ++i) {
    const uint64_t pcs[4] = {i, i * 3, 0x7f0000000000 + i, 42};
    bool is_new = false;
    ids.push_back(table.Intern(pcs, 4, &is_new));
    ASSERT_TRUE(is_new);
    ASSERT_EQ(ids.back(), i + 1);
  }
  for (uint64_t i = 0; i < 50000; ++i) {
    const uint64_t pcs[4] = {i, i * 3, 0x7f0000000000 + i, 42};
    bool is_new = true;
    ASSERT_EQ(table.Intern(pcs, 4, &is_new), ids[i]);
    ASSERT_FALSE(is_new);
  }
}

TEST(StackTable, ClearsAtItsBudgetAndNeverReusesAnId) {
  StackTable table(/*memory_budget_bytes=*/256 << 10);
  uint32_t last = 0;
  size_t peak_memory = 0;
  for (uint64_t i = 0; i < 100000; ++i) {
    const uint64_t pcs[8] = {i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7};
    bool is_new = false;
    const uint32_t id = table.Intern(pcs, 8, &is_new);
    ASSERT_TRUE(is_new);
    ASSERT_EQ(id, last + 1);
    last = id;
    peak_memory = std::max(peak_memory, table.memory_bytes());
  }
  EXPECT_LE(peak_memory, size_t{256} << 10);
  EXPECT_LT(table.size(), 100000u);  // it was cleared along the way
  // A stack seen before the clear is new again, with a fresh id.
  const uint64_t first[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  bool is_new = false;
  EXPECT_EQ(table.Intern(first, 8, &is_new), 100001u);
  EXPECT_TRUE(is_new);
}

}  // namespace
}  // namespace leakscope::preload
