// StackCache: a stack is found again only while every return address is
// still in its slot (the slot the unwinder found it in), and each store
// gives the entry a new reference, which is what records carry instead of
// frames (event_record.h). tests/preload/stack_unwind_test.cc has real frames.
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
  uint64_t at(int i) const { return reinterpret_cast<uint64_t>(&words[i]); }
};

TEST(StackCache, HitsOnlyWhileTheLiveStackStillHoldsEveryReturnAddress) {
  static StackCache cache;  // large: not on the test's stack
  cache.Clear();
  FakeStack s;
  const uint64_t pcs[3] = {0x401000, 0x402000, 0x403000};
  const uint64_t slots[3] = {s.at(2), s.at(4), s.at(7)};
  EXPECT_EQ(cache.Lookup(s.sp()), 0u);
  const uint32_t ref = cache.Store(s.sp(), s.hi(), pcs, slots, 3);
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
  const uint64_t slots[2] = {s.at(2), s.at(4)};
  const uint32_t first = cache.Store(s.sp(), s.hi(), pcs, slots, 2);
  const uint32_t second = cache.Store(s.sp(), s.hi(), pcs, slots, 2);
  EXPECT_NE(first, second);
  EXPECT_EQ(StackCache::RefEntry(first), StackCache::RefEntry(second));
  EXPECT_EQ(cache.Lookup(s.sp()), second);
}

TEST(StackCache, AForgottenEntryIsNotFound) {
  static StackCache cache;
  cache.Clear();
  FakeStack s;
  const uint64_t pcs[1] = {0x401000};
  const uint64_t slots[1] = {s.at(2)};
  const uint32_t ref = cache.Store(s.sp(), s.hi(), pcs, slots, 1);
  cache.Forget(ref);  // the record that stored it was dropped
  EXPECT_EQ(cache.Lookup(s.sp()), 0u);
}

// The slots come from the unwinder; one that does not hold its return
// address, is out of order or outside the stack caches nothing, and the
// entry that was there is gone (its version moved on).
TEST(StackCache, CachesNothingUnlessEverySlotHoldsItsReturnAddressInOrderOnTheStack) {
  static StackCache cache;
  cache.Clear();
  FakeStack s;
  const uint64_t pcs[2] = {0x401000, 0x402000};
  const uint64_t good[2] = {s.at(2), s.at(4)};
  const uint64_t bad[][2] = {{s.at(2), s.at(5)},      // holds 4
                             {s.at(4), s.at(2)},      // out of order
                             {s.at(2), s.at(2)},      // the same slot twice
                             {s.at(2), s.at(4) + 4},  // misaligned
                             {s.at(2), s.hi()},       // above the stack
                             {s.sp() - 8, s.at(4)}};  // below the stack pointer
  for (const auto& slots : bad) {
    ASSERT_NE(cache.Store(s.sp(), s.hi(), pcs, good, 2), 0u);
    EXPECT_EQ(cache.Store(s.sp(), s.hi(), pcs, slots, 2), 0u);
    EXPECT_EQ(cache.Lookup(s.sp()), 0u);
  }
}

// A stale copy of a return address below its real slot does not stand in
// for it: another chain that keeps the copy but not the return address
// misses.
TEST(StackCache, AStaleCopyOfAReturnAddressDoesNotMakeAnotherChainHit) {
  static StackCache cache;
  cache.Clear();
  FakeStack s;
  s.words[3] = 0x402000;  // a copy below the real slot, words[4]
  const uint64_t pcs[3] = {0x401000, 0x402000, 0x403000};
  const uint64_t slots[3] = {s.at(2), s.at(4), s.at(7)};
  const uint32_t ref = cache.Store(s.sp(), s.hi(), pcs, slots, 3);
  ASSERT_NE(ref, 0u);
  ASSERT_EQ(cache.Lookup(s.sp()), ref);
  s.words[4] = 0x409000;  // another caller; the copy stays
  EXPECT_EQ(cache.Lookup(s.sp()), 0u);
}

// An empty entry takes a chain that missed twice in a row there.
TEST(StackCache, AnEmptyEntryIsWorthAChainThatMissedTwiceInARow) {
  static StackCache cache;
  cache.Clear();
  FakeStack s;
  const uint64_t a[2] = {0x401000, 0x402000};
  const uint64_t b[2] = {0x401000, 0x403000};
  EXPECT_FALSE(cache.WorthStoring(s.sp(), a, 2));
  EXPECT_FALSE(cache.WorthStoring(s.sp(), b, 2));  // another chain in between
  EXPECT_FALSE(cache.WorthStoring(s.sp(), a, 2));
  EXPECT_FALSE(cache.WorthStoring(s.sp(), a, 1));         // fewer frames: another chain
  EXPECT_FALSE(cache.WorthStoring(s.sp() + 8192, a, 1));  // the same entry, another stack pointer
  EXPECT_FALSE(cache.WorthStoring(s.sp(), a, 2));
  EXPECT_TRUE(cache.WorthStoring(s.sp(), a, 2));
}

// Two chains taking turns at one stack pointer: the stored one keeps the
// entry until it has paid for its walk, the other misses without walks.
TEST(StackCache, ReplacingAChainThatHasNotPaidForItsWalkTakesMoreMisses) {
  static StackCache cache;
  cache.Clear();
  FakeStack s;
  const uint64_t a[3] = {0x401000, 0x402000, 0x403000};
  const uint64_t slots[3] = {s.at(2), s.at(4), s.at(7)};
  const uint64_t b[3] = {0x401000, 0x402000, 0x404000};
  ASSERT_NE(cache.Store(s.sp(), s.hi(), a, slots, 3), 0u);
  // No hits: need doubles each time b's misses reach it, up to kMaxNeed.
  for (uint32_t miss = 1; miss < StackCache::kMaxNeed; ++miss)
    ASSERT_FALSE(cache.WorthStoring(s.sp(), b, 3)) << miss;
  EXPECT_TRUE(cache.WorthStoring(s.sp(), b, 3));

  // Hits pay back misses: b's two misses with a's hits between them
  // are not enough.
  cache.Clear();
  ASSERT_NE(cache.Store(s.sp(), s.hi(), a, slots, 3), 0u);
  EXPECT_FALSE(cache.WorthStoring(s.sp(), b, 3));
  for (uint32_t hit = 0; hit < StackCache::kPaidHits; ++hit) ASSERT_NE(cache.Lookup(s.sp()), 0u);
  EXPECT_FALSE(cache.WorthStoring(s.sp(), b, 3));
  // a has paid: two misses in a row replace it.
  EXPECT_TRUE(cache.WorthStoring(s.sp(), b, 3));
}

// Slots not found for a chain: its entry is tried less often.
TEST(StackCache, AnUnstorableChainIsWalkedLessAndLessOften) {
  static StackCache cache;
  cache.Clear();
  FakeStack s;
  const uint64_t a[2] = {0x401000, 0x402000};
  uint32_t walks = 0;
  for (int miss = 0; miss < 2 + 4 + 8 + 16; ++miss) {
    if (cache.WorthStoring(s.sp(), a, 2)) {
      ++walks;
      cache.Unstorable(s.sp());
    }
  }
  EXPECT_EQ(walks, 4u);  // after 2, 4, 8 and 16 more misses
}

}  // namespace
}  // namespace leakscope::preload
