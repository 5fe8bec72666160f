#include "stack_cache.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace leakscope::preload {
namespace {

// A fake stack: return addresses among other words, as a real one holds them.
struct FakeStack {
  uint64_t words[16] = {1, 2, 0x401000, 3, 0x402000, 4, 5, 0x403000, 6, 7, 8, 9, 10, 11, 12, 13};
  uint64_t sp() const { return reinterpret_cast<uint64_t>(&words[0]); }
  uint64_t hi() const { return reinterpret_cast<uint64_t>(&words[16]); }
};

TEST(StackCache, HitsOnlyWhileTheLiveStackStillHoldsEveryReturnAddress) {
  static StackCache cache;  // large: not on the test's stack
  cache.Clear();
  FakeStack s;
  const uint64_t pcs[3] = {0x401000, 0x402000, 0x403000};
  uint64_t out[kMaxFrames] = {};
  EXPECT_EQ(cache.Lookup(s.sp(), out), 0u);
  cache.Store(s.sp(), s.hi(), pcs, 3);
  ASSERT_EQ(cache.Lookup(s.sp(), out), 3u);
  EXPECT_EQ(out[0], 0x401000u);
  EXPECT_EQ(out[1], 0x402000u);
  EXPECT_EQ(out[2], 0x403000u);
  EXPECT_EQ(cache.Lookup(s.sp() + 8, out), 0u);  // another depth
  s.words[7] = 0x404000;                         // an outer caller changed
  EXPECT_EQ(cache.Lookup(s.sp(), out), 0u);
  s.words[7] = 0x403000;
  EXPECT_EQ(cache.Lookup(s.sp(), out), 3u);
  cache.Clear();  // the ring went to another thread
  EXPECT_EQ(cache.Lookup(s.sp(), out), 0u);
}

TEST(StackCache, CachesNothingWhenAReturnAddressIsNotOnTheStack) {
  static StackCache cache;
  cache.Clear();
  FakeStack s;
  const uint64_t pcs[2] = {0x401000, 0x405000};  // the second is nowhere
  cache.Store(s.sp(), s.hi(), pcs, 2);
  uint64_t out[kMaxFrames];
  EXPECT_EQ(cache.Lookup(s.sp(), out), 0u);
}

}  // namespace
}  // namespace leakscope::preload
