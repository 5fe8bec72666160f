// The ring records' encoding (preload/event_record.h): the short kFree and
// kAllocCached records, their fallback to the long form at each field's
// limit, and the reading the drain does.
#include "event_record.h"

#include <gtest/gtest.h>

#include <vector>

#include "ring_buffer.h"
#include "stack_cache.h"

namespace leakscope::preload {
namespace {

constexpr uint64_t kAddress = 0x7f12'3456'7890;

TEST(EventRecord, FreeIsTwoWordsWithTheTimestampBesideTheKind) {
  uint64_t rec[kFreeLongRecordWords] = {};
  ASSERT_EQ(EncodeFree(rec, 0x123456, kAddress), 2u);
  EXPECT_EQ(rec[0], 0x1234'5602u);
  EXPECT_EQ(rec[1], kAddress);
  EXPECT_EQ(HeaderKind(rec[0]), EventKind::kFree);
  EXPECT_EQ(RecordWords(rec[0]), 2u);
  EXPECT_EQ(RecordTime(rec), 0x123456u);
  EXPECT_EQ(FreeAddress(rec), kAddress);
}

TEST(EventRecord, FreeAtTheLastShortTimestampIsShortAndTheNextIsLong) {
  uint64_t rec[kFreeLongRecordWords] = {};
  ASSERT_EQ(EncodeFree(rec, (uint64_t{1} << 56) - 1, kAddress), 2u);
  EXPECT_EQ(rec[0], 0xffff'ffff'ffff'ff02u);
  EXPECT_EQ(RecordTime(rec), 0x00ff'ffff'ffff'ffffu);

  ASSERT_EQ(EncodeFree(rec, uint64_t{1} << 56, kAddress), 3u);
  EXPECT_EQ(rec[0], 0x3'0009u);  // kFreeLong, 3 words
  EXPECT_EQ(rec[1], 0x0100'0000'0000'0000u);
  EXPECT_EQ(rec[2], kAddress);
  EXPECT_EQ(HeaderKind(rec[0]), EventKind::kFreeLong);
  EXPECT_EQ(RecordWords(rec[0]), 3u);
  EXPECT_EQ(RecordTime(rec), uint64_t{1} << 56);
  EXPECT_EQ(FreeAddress(rec), kAddress);

  ASSERT_EQ(EncodeFree(rec, ~uint64_t{0}, 0), 3u);
  EXPECT_EQ(RecordTime(rec), ~uint64_t{0});
  EXPECT_EQ(FreeAddress(rec), 0u);
}

// The highest reference there is: entry 7, version 2^28 - 1.
constexpr uint32_t kTopRef = 0xffff'fff8;
static_assert(kTopRef == (8u | (0x0fff'ffffu << 4)));

TEST(EventRecord, CachedAllocationIsThreeWordsWithSizeAndReferenceInOne) {
  EXPECT_EQ(StackCache::MakeRef(7, 0x0fff'ffff), kTopRef);
  uint64_t rec[kMaxRecordWords] = {};
  const uint64_t header = kAllocCachedLongHeader | uint64_t{kTopRef} << 32;
  ASSERT_EQ(EncodeAlloc(rec, header, 0xabcdef, kAddress, 48), 3u);
  EXPECT_EQ(rec[0], 0xab'cdef'03u);
  EXPECT_EQ(rec[1], kAddress);
  EXPECT_EQ(rec[2], 0xffff'fff8'0000'0030u);
  EXPECT_EQ(HeaderKind(rec[0]), EventKind::kAllocCached);
  EXPECT_EQ(RecordWords(rec[0]), 3u);
  EXPECT_EQ(RecordTime(rec), 0xabcdefu);
  const AllocFields a = DecodeAlloc(rec);
  EXPECT_EQ(a.address, kAddress);
  EXPECT_EQ(a.size, 48u);
  EXPECT_EQ(a.cache_ref, kTopRef);
}

TEST(EventRecord, CachedAllocationAtEachFieldsLimitIsShortAndPastItLong) {
  uint64_t rec[kMaxRecordWords] = {};
  const uint64_t header = kAllocCachedLongHeader | uint64_t{kTopRef} << 32;
  const uint64_t max_time = (uint64_t{1} << 56) - 1, max_size = 0xffff'ffff;

  ASSERT_EQ(EncodeAlloc(rec, header, max_time, kAddress, max_size), 3u);
  EXPECT_EQ(rec[0], 0xffff'ffff'ffff'ff03u);
  EXPECT_EQ(rec[2], 0xffff'fff8'ffff'ffffu);
  EXPECT_EQ(RecordTime(rec), max_time);
  EXPECT_EQ(DecodeAlloc(rec).size, max_size);
  EXPECT_EQ(DecodeAlloc(rec).cache_ref, kTopRef);

  // A size of 4 GiB: the long form, the reference in its header.
  ASSERT_EQ(EncodeAlloc(rec, header, 5, kAddress, max_size + 1), 4u);
  EXPECT_EQ(rec[0], 0xffff'fff8'0004'000au);  // kAllocCachedLong, 4 words
  EXPECT_EQ(rec[1], 5u);
  EXPECT_EQ(rec[2], kAddress);
  EXPECT_EQ(rec[3], 0x1'0000'0000u);
  EXPECT_EQ(RecordWords(rec[0]), 4u);
  EXPECT_EQ(RecordTime(rec), 5u);
  AllocFields a = DecodeAlloc(rec);
  EXPECT_EQ(a.address, kAddress);
  EXPECT_EQ(a.size, 0x1'0000'0000u);
  EXPECT_EQ(a.cache_ref, kTopRef);

  // The largest size there is.
  ASSERT_EQ(EncodeAlloc(rec, header, 5, kAddress, ~uint64_t{0}), 4u);
  EXPECT_EQ(DecodeAlloc(rec).size, ~uint64_t{0});

  // A timestamp past 56 bits: the long form too.
  ASSERT_EQ(EncodeAlloc(rec, header, max_time + 1, kAddress, 16), 4u);
  EXPECT_EQ(HeaderKind(rec[0]), EventKind::kAllocCachedLong);
  EXPECT_EQ(RecordTime(rec), max_time + 1);
  a = DecodeAlloc(rec);
  EXPECT_EQ(a.size, 16u);
  EXPECT_EQ(a.cache_ref, kTopRef);
}

TEST(EventRecord, AllocationWithFramesStaysLongWhateverItsValues) {
  uint64_t rec[kMaxRecordWords] = {};
  rec[4] = 0x401000;
  rec[5] = 0x402000;
  const uint32_t ref = StackCache::MakeRef(2, 9);  // 3 | 9 << 4
  ASSERT_EQ(ref, 0x93u);
  ASSERT_EQ(EncodeAlloc(rec, AllocHeader(2) | uint64_t{ref} << 32, 7, kAddress, 32), 6u);
  EXPECT_EQ(rec[0], 0x93'0006'0201u);  // kAlloc, 2 frames, 6 words, the reference
  EXPECT_EQ(rec[1], 7u);
  EXPECT_EQ(rec[3], 32u);
  EXPECT_EQ(rec[4], 0x401000u);
  EXPECT_EQ(RecordWords(rec[0]), 6u);
  EXPECT_EQ(HeaderFrames(rec[0]), 2u);
  EXPECT_EQ(RecordTime(rec), 7u);
  const AllocFields a = DecodeAlloc(rec);
  EXPECT_EQ(a.address, kAddress);
  EXPECT_EQ(a.size, 32u);
  EXPECT_EQ(a.cache_ref, ref);

  // The most frames: the longest record.
  ASSERT_EQ(EncodeAlloc(rec, AllocHeader(kMaxFrames), 7, kAddress, 32), uint32_t(kMaxRecordWords));
  EXPECT_EQ(HeaderFrames(rec[0]), uint32_t(kMaxFrames));
}

TEST(EventRecord, MappingRecordsAreLongAndNotTakenForTheNewKinds) {
  const uint64_t rec[kRemapEndRecordWords] = {MakeHeader(EventKind::kRemapEnd, 0, 5), 11, 1, 2, 3};
  EXPECT_EQ(RecordWords(rec[0]), 5u);
  EXPECT_EQ(RecordTime(rec), 11u);
  EXPECT_TRUE(IsMappingKind(EventKind::kMap));
  EXPECT_TRUE(IsMappingKind(EventKind::kRemapEnd));
  EXPECT_FALSE(IsMappingKind(EventKind::kFreeLong));
  EXPECT_FALSE(IsMappingKind(EventKind::kAllocCachedLong));
  EXPECT_FALSE(IsMappingKind(EventKind::kAllocCached));
}

// Short and long records mixed in a ring that wraps, read back as the drain
// reads them: a length and a timestamp from the record's first words.
TEST(EventRecord, MixedRecordsReadBackInOrderAcrossTheRingsEnd) {
  std::vector<uint64_t> storage(16);
  RingBuffer ring;
  ring.Init(storage.data(), storage.size());
  const uint64_t cached = kAllocCachedLongHeader | uint64_t{0x21} << 32;
  uint64_t pos = 0;
  for (uint64_t i = 0; i < 60; ++i) {
    uint64_t rec[kMaxRecordWords] = {};
    const uint64_t time = (i % 7 == 6) ? (uint64_t{1} << 56) + i : 100 + i;
    uint32_t words = 0;
    switch (i % 3) {
      case 0:
        words = EncodeFree(rec, time, 0x1000 + i);
        break;
      case 1:
        words = EncodeAlloc(rec, cached, time, 0x1000 + i, i % 5 == 4 ? (1ull << 40) : i);
        break;
      default:
        rec[4] = 0x400000 + i;
        words = EncodeAlloc(rec, AllocHeader(1), time, 0x1000 + i, i);
    }
    ASSERT_TRUE(ring.TryPush(rec, words));
    uint64_t tmp[kMaxRecordWords];
    const uint32_t n = RecordWords(ring.WordAt(pos));
    ASSERT_EQ(n, words) << i;
    EXPECT_EQ(RecordTime(ring.WordAt(pos), [&] { return ring.WordAt(pos + 1); }), time) << i;
    const uint64_t* got = ring.View(pos, tmp, n);
    if (i % 3 == 0) {
      EXPECT_EQ(FreeAddress(got), 0x1000 + i) << i;
    } else {
      const AllocFields a = DecodeAlloc(got);
      EXPECT_EQ(a.address, 0x1000 + i) << i;
      EXPECT_EQ(a.size, i % 3 == 1 && i % 5 == 4 ? (1ull << 40) : i) << i;
      EXPECT_EQ(a.cache_ref, i % 3 == 1 ? 0x21u : 0u) << i;
      if (i % 3 == 2) {
        EXPECT_EQ(got[4], 0x400000 + i) << i;
      }
    }
    pos += n;
    ring.ReleaseTo(pos);
  }
  EXPECT_EQ(ring.WritePos(), pos);
}

}  // namespace
}  // namespace leakscope::preload
