// The ring records' encoding (preload/event_record.h): the packed and the
// short kFree and kAllocCached records, their fallback to the next longer
// form at each field's limit, and the reading the drain does.
#include "event_record.h"

#include <gtest/gtest.h>

#include <vector>

#include "ring_buffer.h"
#include "stack_cache.h"

namespace leakscope::preload {
namespace {

constexpr uint64_t kAddress = 0x7f12'3456'7890;

// What the drain reads back from an allocation record.
void ExpectAlloc(const uint64_t* rec, uint64_t address, uint64_t size, uint32_t cache_ref) {
  const AllocFields a = DecodeAlloc(rec);
  EXPECT_EQ(a.address, address);
  EXPECT_EQ(a.size, size);
  EXPECT_EQ(a.cache_ref, cache_ref);
}

TEST(EventRecord, FreeIsOneWordOfKindDeltaAndAddressUpToEachLimit) {
  uint64_t rec[kFreeLongRecordWords] = {};
  ASSERT_EQ(EncodeFree(rec, 1000 + 300, 1000, kAddress), 1u);
  EXPECT_EQ(rec[0], 0xfe24'68ac'f120'12cbu);  // 11 | 300 << 4 | address << 17
  EXPECT_EQ(HeaderKind(rec[0]), EventKind::kFreePacked);
  EXPECT_EQ(RecordWords(rec[0]), 1u);
  EXPECT_EQ(RecordTime(rec, 1000), 1300u);
  EXPECT_EQ(FreeAddress(rec), kAddress);

  // The largest delta and address.
  const uint64_t top_address = (uint64_t{1} << 47) - 16;
  ASSERT_EQ(EncodeFree(rec, 1000 + 8191, 1000, top_address), 1u);
  EXPECT_EQ(rec[0], 0xffff'ffff'ffe1'fffbu);
  EXPECT_EQ(RecordTime(rec, 1000), 9191u);
  EXPECT_EQ(FreeAddress(rec), top_address);
  // The same time after a record at its own instant: a delta of 0.
  ASSERT_EQ(EncodeFree(rec, 1000, 1000, kAddress), 1u);
  EXPECT_EQ(RecordTime(rec, 1000), 1000u);

  // One past each limit, or a clock that went back: the short record.
  ASSERT_EQ(EncodeFree(rec, 1000 + 8192, 1000, kAddress), 2u);
  EXPECT_EQ(rec[0], 0x23'e802u);  // 2 | 9192 << 8
  EXPECT_EQ(RecordTime(rec, 1000), 9192u);
  ASSERT_EQ(EncodeFree(rec, 1001, 1000, uint64_t{1} << 47), 2u);
  EXPECT_EQ(FreeAddress(rec), uint64_t{1} << 47);
  EXPECT_EQ(RecordTime(rec, 1000), 1001u);
  ASSERT_EQ(EncodeFree(rec, 999, 1000, kAddress), 2u);
  EXPECT_EQ(RecordTime(rec, 1000), 999u);
}

TEST(EventRecord, FreeIsTwoWordsWithTheTimestampBesideTheKind) {
  uint64_t rec[kFreeLongRecordWords] = {};
  ASSERT_EQ(EncodeFree(rec, 0x123456, 0, kAddress), 2u);
  EXPECT_EQ(rec[0], 0x1234'5602u);
  EXPECT_EQ(rec[1], kAddress);
  EXPECT_EQ(HeaderKind(rec[0]), EventKind::kFree);
  EXPECT_EQ(RecordWords(rec[0]), 2u);
  EXPECT_EQ(RecordTime(rec, 0), 0x123456u);
  EXPECT_EQ(FreeAddress(rec), kAddress);
}

TEST(EventRecord, FreeAtTheLastShortTimestampIsShortAndTheNextIsLong) {
  uint64_t rec[kFreeLongRecordWords] = {};
  ASSERT_EQ(EncodeFree(rec, (uint64_t{1} << 56) - 1, 0, kAddress), 2u);
  EXPECT_EQ(rec[0], 0xffff'ffff'ffff'ff02u);
  EXPECT_EQ(RecordTime(rec, 0), 0x00ff'ffff'ffff'ffffu);

  ASSERT_EQ(EncodeFree(rec, uint64_t{1} << 56, 0, kAddress), 3u);
  EXPECT_EQ(rec[0], 0x3'0009u);  // kFreeLong, 3 words
  EXPECT_EQ(rec[1], 0x0100'0000'0000'0000u);
  EXPECT_EQ(rec[2], kAddress);
  EXPECT_EQ(HeaderKind(rec[0]), EventKind::kFreeLong);
  EXPECT_EQ(RecordWords(rec[0]), 3u);
  EXPECT_EQ(RecordTime(rec, 0), uint64_t{1} << 56);
  EXPECT_EQ(FreeAddress(rec), kAddress);

  ASSERT_EQ(EncodeFree(rec, ~uint64_t{0}, 0, 0), 3u);
  EXPECT_EQ(RecordTime(rec, 0), ~uint64_t{0});
  EXPECT_EQ(FreeAddress(rec), 0u);
}

// The highest reference there is: entry 7, version 2^28 - 1.
constexpr uint32_t kTopRef = 0xffff'fff8;
static_assert(kTopRef == (8u | (0x0fff'ffffu << 4)));

TEST(EventRecord, CachedAllocationIsTwoWordsWhenDeltaAddressAndSizeFit) {
  uint64_t rec[kMaxRecordWords] = {};
  const uint64_t header = kAllocCachedLongHeader | uint64_t{kTopRef} << 32;
  ASSERT_EQ(EncodeAlloc(rec, header, 77, 77, kAddress, 0xffff'ffff), 2u);
  EXPECT_EQ(rec[0], 0xfe24'68ac'f120'000cu);  // 12 | 0 << 4 | address << 17
  EXPECT_EQ(rec[1], 0xffff'fff8'ffff'ffffu);
  EXPECT_EQ(HeaderKind(rec[0]), EventKind::kAllocPacked);
  EXPECT_EQ(RecordWords(rec[0]), 2u);
  EXPECT_EQ(RecordTime(rec, 77), 77u);
  ExpectAlloc(rec, kAddress, 0xffff'ffffu, kTopRef);

  // Delta 8,192, or an address of 2^47: the short record.
  ASSERT_EQ(EncodeAlloc(rec, header, 8192, 0, kAddress, 48), 3u);
  EXPECT_EQ(HeaderKind(rec[0]), EventKind::kAllocCached);
  EXPECT_EQ(RecordTime(rec, 0), 8192u);
  ASSERT_EQ(EncodeAlloc(rec, header, 1, 0, uint64_t{1} << 47, 48), 3u);
  EXPECT_EQ(DecodeAlloc(rec).address, uint64_t{1} << 47);
  // 4 GiB with a delta that fits: the long record (the size fits neither).
  ASSERT_EQ(EncodeAlloc(rec, header, 1, 0, kAddress, uint64_t{1} << 32), 4u);
  EXPECT_EQ(HeaderKind(rec[0]), EventKind::kAllocCachedLong);
  ExpectAlloc(rec, kAddress, uint64_t{1} << 32, kTopRef);
  EXPECT_EQ(RecordTime(rec, 0), 1u);
}

TEST(EventRecord, CachedAllocationIsThreeWordsWithSizeAndReferenceInOne) {
  EXPECT_EQ(StackCache::MakeRef(7, 0x0fff'ffff), kTopRef);
  uint64_t rec[kMaxRecordWords] = {};
  const uint64_t header = kAllocCachedLongHeader | uint64_t{kTopRef} << 32;
  ASSERT_EQ(EncodeAlloc(rec, header, 0xabcdef, 0, kAddress, 48), 3u);
  EXPECT_EQ(rec[0], 0xab'cdef'03u);
  EXPECT_EQ(rec[1], kAddress);
  EXPECT_EQ(rec[2], 0xffff'fff8'0000'0030u);
  EXPECT_EQ(HeaderKind(rec[0]), EventKind::kAllocCached);
  EXPECT_EQ(RecordWords(rec[0]), 3u);
  EXPECT_EQ(RecordTime(rec, 0), 0xabcdefu);
  ExpectAlloc(rec, kAddress, 48u, kTopRef);
}

TEST(EventRecord, CachedAllocationAtEachFieldsLimitIsShortAndPastItLong) {
  uint64_t rec[kMaxRecordWords] = {};
  const uint64_t header = kAllocCachedLongHeader | uint64_t{kTopRef} << 32;
  const uint64_t max_time = (uint64_t{1} << 56) - 1, max_size = 0xffff'ffff;

  ASSERT_EQ(EncodeAlloc(rec, header, max_time, 0, kAddress, max_size), 3u);
  EXPECT_EQ(rec[0], 0xffff'ffff'ffff'ff03u);
  EXPECT_EQ(rec[2], 0xffff'fff8'ffff'ffffu);
  EXPECT_EQ(RecordTime(rec, 0), max_time);
  EXPECT_EQ(DecodeAlloc(rec).size, max_size);
  EXPECT_EQ(DecodeAlloc(rec).cache_ref, kTopRef);

  // A size of 4 GiB: the long form, the reference in its header.
  ASSERT_EQ(EncodeAlloc(rec, header, 5, 0, kAddress, max_size + 1), 4u);
  EXPECT_EQ(rec[0], 0xffff'fff8'0004'000au);  // kAllocCachedLong, 4 words
  EXPECT_EQ(rec[1], 5u);
  EXPECT_EQ(rec[2], kAddress);
  EXPECT_EQ(rec[3], 0x1'0000'0000u);
  EXPECT_EQ(RecordWords(rec[0]), 4u);
  EXPECT_EQ(RecordTime(rec, 0), 5u);
  ExpectAlloc(rec, kAddress, 0x1'0000'0000u, kTopRef);

  // The largest size there is.
  ASSERT_EQ(EncodeAlloc(rec, header, 5, 0, kAddress, ~uint64_t{0}), 4u);
  EXPECT_EQ(DecodeAlloc(rec).size, ~uint64_t{0});

  // A timestamp past 56 bits: the long form too.
  ASSERT_EQ(EncodeAlloc(rec, header, max_time + 1, 0, kAddress, 16), 4u);
  EXPECT_EQ(HeaderKind(rec[0]), EventKind::kAllocCachedLong);
  EXPECT_EQ(RecordTime(rec, 0), max_time + 1);
  ExpectAlloc(rec, kAddress, 16u, kTopRef);
}

TEST(EventRecord, AllocationWithFramesStaysLongWhateverItsValues) {
  uint64_t rec[kMaxRecordWords] = {};
  rec[4] = 0x401000;
  rec[5] = 0x402000;
  const uint32_t ref = StackCache::MakeRef(2, 9);  // 3 | 9 << 4
  ASSERT_EQ(ref, 0x93u);
  ASSERT_EQ(EncodeAlloc(rec, AllocHeader(2) | uint64_t{ref} << 32, 7, 0, kAddress, 32), 6u);
  EXPECT_EQ(rec[0], 0x93'0006'0201u);  // kAlloc, 2 frames, 6 words, the reference
  EXPECT_EQ(rec[1], 7u);
  EXPECT_EQ(rec[3], 32u);
  EXPECT_EQ(rec[4], 0x401000u);
  EXPECT_EQ(RecordWords(rec[0]), 6u);
  EXPECT_EQ(HeaderFrames(rec[0]), 2u);
  EXPECT_EQ(RecordTime(rec, 0), 7u);
  ExpectAlloc(rec, kAddress, 32u, ref);

  // The most frames: the longest record.
  ASSERT_EQ(EncodeAlloc(rec, AllocHeader(kMaxFrames), 7, 0, kAddress, 32),
            uint32_t(kMaxRecordWords));
  EXPECT_EQ(HeaderFrames(rec[0]), uint32_t(kMaxFrames));
}

TEST(EventRecord, MappingRecordsAreLongAndNotTakenForTheNewKinds) {
  const uint64_t rec[kRemapEndRecordWords] = {MakeHeader(EventKind::kRemapEnd, 0, 5), 11, 1, 2, 3};
  EXPECT_EQ(RecordWords(rec[0]), 5u);
  EXPECT_EQ(RecordTime(rec, 0), 11u);
  EXPECT_TRUE(IsMappingKind(EventKind::kMap));
  EXPECT_TRUE(IsMappingKind(EventKind::kRemapEnd));
  EXPECT_FALSE(IsMappingKind(EventKind::kFreeLong));
  EXPECT_FALSE(IsMappingKind(EventKind::kAllocCachedLong));
  EXPECT_FALSE(IsMappingKind(EventKind::kAllocCached));
}

// Packed, short and long records mixed in a ring that wraps, read back as
// the drain reads them: a length and a timestamp from the record's first
// words and the time of the record before it.
TEST(EventRecord, MixedRecordsReadBackInOrderAcrossTheRingsEnd) {
  std::vector<uint64_t> storage(16);
  RingBuffer ring;
  ring.Init(storage.data(), storage.size());
  const uint64_t cached = kAllocCachedLongHeader | uint64_t{0x21} << 32;
  uint64_t pos = 0, written = 0, read = 0;  // written, read: the last record's time
  uint64_t clock = 0;
  uint32_t lengths[5] = {}, kinds[16] = {};
  for (uint64_t i = 0; i < 90; ++i) {
    uint64_t rec[kMaxRecordWords] = {};
    // Steps of 100 (packed) and 9,000 (short), now and then a time past 56
    // bits (long), after which the clock seems to go back (short).
    clock += i % 4 ? 100 : 9000;
    const uint64_t time = i % 7 == 6 ? (uint64_t{1} << 56) + i : clock;
    const uint64_t address = i % 11 == 10 ? (uint64_t{1} << 47) + i : 0x1000 + i;
    uint32_t words = 0;
    switch (i % 3) {
      case 0:
        words = EncodeFree(rec, time, written, address);
        break;
      case 1:
        words = EncodeAlloc(rec, cached, time, written, address, i % 5 == 4 ? (1ull << 40) : i);
        break;
      default:
        rec[4] = 0x400000 + i;
        words = EncodeAlloc(rec, AllocHeader(1), time, written, address, i);
    }
    ASSERT_TRUE(ring.TryPush(rec, words));
    written = time;
    ++lengths[words - 1];
    ++kinds[static_cast<int>(HeaderKind(rec[0]))];
    uint64_t tmp[kMaxRecordWords];
    const uint32_t n = RecordWords(ring.WordAt(pos));
    ASSERT_EQ(n, words) << i;
    read = RecordTime(ring.WordAt(pos), read, [&] { return ring.WordAt(pos + 1); });
    EXPECT_EQ(read, time) << i;
    const uint64_t* got = ring.View(pos, tmp, n);
    EXPECT_EQ(IsFreeKind(HeaderKind(got[0])), i % 3 == 0) << i;
    if (i % 3 == 0) {
      EXPECT_EQ(FreeAddress(got), address) << i;
    } else {
      const AllocFields a = DecodeAlloc(got);
      EXPECT_EQ(a.address, address) << i;
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
  // Every length was written, 1 to 5 words, and each kind.
  for (uint32_t count : lengths) EXPECT_GT(count, 0u);
  for (EventKind kind :
       {EventKind::kFreePacked, EventKind::kFree, EventKind::kFreeLong, EventKind::kAllocPacked,
        EventKind::kAllocCached, EventKind::kAllocCachedLong, EventKind::kAlloc})
    EXPECT_GT(kinds[static_cast<int>(kind)], 0u) << static_cast<int>(kind);
}

}  // namespace
}  // namespace leakscope::preload
