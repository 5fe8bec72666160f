// LiveTable: lookup semantics and the memory it costs per live allocation,
// measured through a counting allocator.
#include "live_table.h"

#include <gtest/gtest.h>

namespace leakscope::collector {
namespace {

TEST(LiveTable, InsertFindErase) {
  LiveTable t;
  EXPECT_EQ(t.Insert(0x1000, {64, 3}), std::nullopt);
  EXPECT_EQ(t.Insert(0x2000, {5ull << 33, 4}), std::nullopt);  // > 4 GiB survives packing
  EXPECT_EQ(t.size(), 2u);
  auto a = t.Find(0x2000);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->size, 5ull << 33);
  EXPECT_EQ(a->site, 4u);
  auto b = t.Erase(0x1000);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->size, 64u);
  EXPECT_EQ(b->site, 3u);
  EXPECT_EQ(t.Erase(0x1000), std::nullopt);
  EXPECT_EQ(t.Find(0x1000), std::nullopt);
  EXPECT_EQ(t.size(), 1u);
}

TEST(LiveTable, InsertAtLiveAddressReturnsTheReplaced) {
  LiveTable t;
  t.Insert(0xffff'ffff'0000'0010ull, {10, 1});
  auto old = t.Insert(0xffff'ffff'0000'0010ull, {20, 2});
  ASSERT_TRUE(old);
  EXPECT_EQ(old->size, 10u);
  EXPECT_EQ(old->site, 1u);
  EXPECT_EQ(t.Find(0xffff'ffff'0000'0010ull)->size, 20u);
  EXPECT_EQ(t.size(), 1u);
}

TEST(LiveTable, AddressesDifferingOnlyInHighBitsAreDistinct) {
  LiveTable t;
  t.Insert(0x10, {1, 0});
  t.Insert((1ull << 32) | 0x10, {2, 0});
  EXPECT_EQ(t.Find(0x10)->size, 1u);
  EXPECT_EQ(t.Find((1ull << 32) | 0x10)->size, 2u);
}

size_t g_bytes_in_use = 0;
size_t g_peak_bytes = 0;

template <class T>
struct CountingAllocator {
  using value_type = T;
  CountingAllocator() = default;
  template <class U>
  CountingAllocator(const CountingAllocator<U>&) {}
  T* allocate(size_t n) {
    g_bytes_in_use += n * sizeof(T);
    g_peak_bytes = std::max(g_peak_bytes, g_bytes_in_use);
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, size_t n) {
    g_bytes_in_use -= n * sizeof(T);
    std::allocator<T>().deallocate(p, n);
  }
  bool operator==(const CountingAllocator&) const { return true; }
  bool operator!=(const CountingAllocator&) const { return false; }
};

// The goal is <= 64 bytes of collector memory per live allocation. A
// power-of-two table is worst right after it grows: measure at every size
// from 1000 to 1M live allocations, 16-byte aligned like malloc's.
TEST(LiveTable, AtMost64BytesPerLiveAllocation) {
  using Pair = std::pair<live_table_detail::Key, live_table_detail::Value>;
  g_bytes_in_use = g_peak_bytes = 0;
  double worst = 0;
  {
    BasicLiveTable<CountingAllocator<Pair>> t;
    for (uint64_t i = 0; i < 1'000'000; ++i) {
      t.Insert(0x7f00'0000'0000ull + 16 * i, {i, static_cast<uint32_t>(i)});
      if (i >= 1000) worst = std::max(worst, double(g_bytes_in_use) / double(t.size()));
    }
    EXPECT_EQ(t.size(), 1'000'000u);
    EXPECT_EQ(t.Find(0x7f00'0000'0000ull + 16 * 999'999)->size, 999'999u);
  }
  std::printf("live table: worst %.1f bytes per live allocation\n", worst);
  EXPECT_LE(worst, 64.0);
  EXPECT_EQ(g_bytes_in_use, 0u);
}

}  // namespace
}  // namespace leakscope::collector
