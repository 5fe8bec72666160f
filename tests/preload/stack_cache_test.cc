// StackCache: a stack is found again only while every return address is
// still in its slot, and each store gives the entry a new reference, which
// is what records carry instead of frames (event_record.h).
#include "stack_cache.h"

#include <gtest/gtest.h>

namespace leakscope::preload {
namespace {

struct FakeStack {
  uint64_t words[16] = {0, 0xa1, 7, 0xb2, 0xc3, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  uint64_t sp() const { return reinterpret_cast<uint64_t>(&words[0]); }
  uint64_t hi() const { return reinterpret_cast<uint64_t>(&words[16]); }
};

TEST(StackCache, ALookupRefersToTheStoredEntryWhileTheStackMatches) {
  FakeStack s;
  StackCache cache;
  const uint64_t pcs[] = {0xa1, 0xb2, 0xc3};
  const uint32_t ref = cache.Store(s.sp(), s.hi(), pcs, 3);
  ASSERT_NE(ref, 0u);
  EXPECT_EQ(cache.Lookup(s.sp(), s.hi()), ref);
  EXPECT_EQ(cache.frames(ref), 3u);
  EXPECT_EQ(cache.pcs(ref)[2], 0xc3u);
  s.words[3] = 0xd4;  // a caller's frame changed
  EXPECT_EQ(cache.Lookup(s.sp(), s.hi()), 0u);
  s.words[3] = 0xb2;
  EXPECT_EQ(cache.Lookup(s.sp() + 8, s.hi()), 0u);  // another depth
}

TEST(StackCache, StoringAgainGivesANewReferenceToTheSameEntry) {
  FakeStack s;
  StackCache cache;
  const uint64_t pcs[] = {0xa1, 0xb2};
  const uint32_t first = cache.Store(s.sp(), s.hi(), pcs, 2);
  const uint32_t second = cache.Store(s.sp(), s.hi(), pcs, 2);
  EXPECT_NE(first, second);
  EXPECT_EQ(StackCache::RefEntry(first), StackCache::RefEntry(second));
  EXPECT_EQ(cache.Lookup(s.sp(), s.hi()), second);
}

TEST(StackCache, AForgottenEntryIsNotFound) {
  FakeStack s;
  StackCache cache;
  const uint64_t pcs[] = {0xa1};
  const uint32_t ref = cache.Store(s.sp(), s.hi(), pcs, 1);
  cache.Forget(ref);  // the record that stored it was dropped
  EXPECT_EQ(cache.Lookup(s.sp(), s.hi()), 0u);
}

TEST(StackCache, AReturnAddressNotOnTheStackIsNotCached) {
  FakeStack s;
  StackCache cache;
  const uint64_t pcs[] = {0xa1, 0xeeee};
  EXPECT_EQ(cache.Store(s.sp(), s.hi(), pcs, 2), 0u);
  EXPECT_EQ(cache.Lookup(s.sp(), s.hi()), 0u);
}

}  // namespace
}  // namespace leakscope::preload
