// StackCache: a stack is found again only while every return address is
// still in its slot, and each store gives the entry a new reference, which
// is what records carry instead of frames (event_record.h).
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
  EXPECT_EQ(cache.Lookup(s.sp()), 0u);
  const uint32_t ref = cache.Store(s.sp(), s.hi(), pcs, 3);
  ASSERT_NE(ref, 0u);
  ASSERT_EQ(cache.Lookup(s.sp()), ref);
  EXPECT_EQ(cache.frames(ref), 3u);
  EXPECT_EQ(cache.pc(ref, 0), 0x401000u);
  EXPECT_EQ(cache.pc(ref, 2), 0x403000u);
  EXPECT_EQ(cache.Lookup(s.sp() + 8), 0u);  // another depth
  s.words[7] = 0x404000;                    // an outer caller changed
  EXPECT_EQ(cache.Lookup(s.sp()), 0u);
  s.words[7] = 0x403000;
  EXPECT_EQ(cache.Lookup(s.sp()), ref);
  cache.Clear();  // the ring went to another thread
  EXPECT_EQ(cache.Lookup(s.sp()), 0u);
}

TEST(StackCache, StoringAgainGivesANewReferenceToTheSameEntry) {
  static StackCache cache;
  cache.Clear();
  FakeStack s;
  const uint64_t pcs[2] = {0x401000, 0x402000};
  const uint32_t first = cache.Store(s.sp(), s.hi(), pcs, 2);
  const uint32_t second = cache.Store(s.sp(), s.hi(), pcs, 2);
  EXPECT_NE(first, second);
  EXPECT_EQ(StackCache::RefEntry(first), StackCache::RefEntry(second));
  EXPECT_EQ(cache.Lookup(s.sp()), second);
}

TEST(StackCache, AForgottenEntryIsNotFound) {
  static StackCache cache;
  cache.Clear();
  FakeStack s;
  const uint64_t pcs[1] = {0x401000};
  const uint32_t ref = cache.Store(s.sp(), s.hi(), pcs, 1);
  cache.Forget(ref);  // the record that stored it was dropped
  EXPECT_EQ(cache.Lookup(s.sp()), 0u);
}

TEST(StackCache, CachesNothingWhenAReturnAddressIsNotOnTheStack) {
  static StackCache cache;
  cache.Clear();
  FakeStack s;
  const uint64_t pcs[2] = {0x401000, 0x405000};  // the second is nowhere
  EXPECT_EQ(cache.Store(s.sp(), s.hi(), pcs, 2), 0u);
  EXPECT_EQ(cache.Lookup(s.sp()), 0u);
}

}  // namespace
}  // namespace leakscope::preload
