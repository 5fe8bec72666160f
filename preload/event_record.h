// The record an application thread writes into its ring for one event.
//
// Word 0's low 4 bits are the record's kind. The common records are packed:
// the time since the ring's previous record (its "delta", 13 bits) and the
// address (below 2^47) in word 0, the length given by the kind.
//   kFreePacked   kind | delta << 4 | address << 17                (1 word)
//   kAllocPacked  kind | delta << 4 | address << 17,
//                 requested size | stack cache reference << 32   (2 words)
// Else short: the timestamp in word 0's upper 56 bits (bits 4-7 are 0).
//   kFree         kind | timestamp << 8, address                  (2 words)
//   kAllocCached  kind | timestamp << 8, address,
//                 requested size | stack cache reference << 32   (3 words)
// Every other record is long, its timestamp in a word of its own:
//   word 0  header: kind | frame count << 8 | record length in words << 16
//           | stack cache reference << 32
//   word 1  timestamp
//   word 2  address
//   word 3  requested size (allocations only: kFreeLong is 3 words)
//   word 4… return addresses, innermost first (kAlloc only)
// A record is packed when its delta and address fit, else short when its
// timestamp (and size) fit, else long: kFreeLong and kAllocCachedLong are
// the fallback for a timestamp of 2^56 or more, a size of 2^32 or more.
// A timestamp is EventTime() (clock.h): ticks since the process's first ring.
// A delta is from the ring's previous record of any kind: the writer keeps
// the time of its last record (ThreadRing::last_time), the drain that of the
// last it read (ThreadRing::drain_last_time).
//
// The stack cache reference (StackCache::MakeRef, 0 = none) names an entry of
// the thread's stack cache and its version. On a kAlloc record it says "these
// frames are now that entry"; the other allocation records carry no frames,
// only the reference: the drain keeps a copy of each entry (ThreadRing::mirror),
// made from the kAlloc record that stored it, earlier in the same ring.
//
// Anonymous mappings (preload/mappings.cc) have records of their own, long,
// never cached (mappings are rare: each is unwound in full):
//   kMap     header (frames, words), timestamp, address, length, frames…
//   kUnmap   header, timestamp, address, length
//   kRemapBegin  header, timestamp, old address, old length (before the call;
//                kRemapBeginKeepOld: the old range stays mapped)
//   kRemapEnd    header, timestamp, old address, new address, new length (after it)
// Lengths are whole pages.
#pragma once

#include <cstdint>

namespace leakscope::preload {

enum class EventKind : uint8_t {
  kAlloc = 1,
  kFree = 2,         // short
  kAllocCached = 3,  // short
  kMap = 4,
  kUnmap = 5,
  kRemapBegin = 6,
  kRemapBeginKeepOld = 7,
  kRemapEnd = 8,
  kFreeLong = 9,
  kAllocCachedLong = 10,
  kFreePacked = 11,
  kAllocPacked = 12,
};
inline constexpr uint64_t kKindMask = 15;

inline constexpr int kMaxFrames = 64;
inline constexpr int kRecordHeaderWords = 4;  // of a long allocation, before its frames
inline constexpr int kFreePackedRecordWords = 1;
inline constexpr int kAllocPackedRecordWords = 2;
inline constexpr int kFreeRecordWords = 2;
inline constexpr int kAllocCachedRecordWords = 3;
inline constexpr int kFreeLongRecordWords = 3;
inline constexpr int kMaxRecordWords = kRecordHeaderWords + kMaxFrames;
inline constexpr int kUnmapRecordWords = 4;
inline constexpr int kRemapEndRecordWords = 5;
inline constexpr bool IsMappingKind(EventKind k) {
  return k >= EventKind::kMap && k <= EventKind::kRemapEnd;
}

// The short records' fields. A 56-bit timestamp lasts 2^56 ticks of the
// process's first ring: 278 days of a 3 GHz TSC, 2.3 years of nanoseconds.
inline constexpr int kShortTimestampBits = 56;
inline constexpr uint64_t kMaxShortTimestamp = (uint64_t{1} << kShortTimestampBits) - 1;
inline constexpr int kShortSizeBits = 32;  // the stack cache reference takes the rest
inline constexpr uint64_t kMaxShortSize = (uint64_t{1} << kShortSizeBits) - 1;
static_assert(8 + kShortTimestampBits == 64, "kind and timestamp make one word");
static_assert(kShortSizeBits + 8 * sizeof(uint32_t) == 64,
              "size and a whole reference make one word");
// The packed records' word 0. 47 bits: every user address of x86-64's 4-level
// page tables (a 5-level one's above 2^47 take the short record).
inline constexpr int kPackedDeltaBits = 13;  // 8,191 ticks: ~3 us of a 2-3 GHz TSC
inline constexpr uint64_t kMaxPackedDelta = (uint64_t{1} << kPackedDeltaBits) - 1;
inline constexpr int kPackedAddressBits = 47;
inline constexpr int kPackedAddressShift = 4 + kPackedDeltaBits;
static_assert(4 + kPackedDeltaBits + kPackedAddressBits == 64, "kind, delta, address: one word");

// kFree and kAllocCached, and no other kind, are 2 and 3 (binary 001x): the
// short test is one mask, and a short record's length is its kind. Only the
// packed kinds are 11 or more. Both tests take a whole word 0.
inline constexpr bool IsShortKind(uint64_t word0) {
  return (word0 & 0xe) == 2;
}
inline constexpr bool IsPackedKind(uint64_t word0) {
  return (word0 & kKindMask) >= uint64_t(EventKind::kFreePacked);
}
static_assert(IsShortKind(uint64_t(EventKind::kFree)) &&
              IsShortKind(uint64_t(EventKind::kAllocCached)));
static_assert(!IsShortKind(uint64_t(EventKind::kAlloc)) &&
              !IsShortKind(uint64_t(EventKind::kMap)) &&
              !IsShortKind(uint64_t(EventKind::kFreeLong)) &&
              !IsShortKind(uint64_t(EventKind::kAllocCachedLong)) &&
              !IsShortKind(uint64_t(EventKind::kFreePacked)) &&
              !IsShortKind(uint64_t(EventKind::kAllocPacked)));
static_assert(!IsPackedKind(uint64_t(EventKind::kAllocCachedLong)) &&
              IsPackedKind(uint64_t(EventKind::kFreePacked)) &&
              IsPackedKind(uint64_t(EventKind::kAllocPacked)) &&
              uint64_t(EventKind::kAllocPacked) <= kKindMask);
static_assert(uint64_t(EventKind::kFree) == kFreeRecordWords &&
              uint64_t(EventKind::kAllocCached) == kAllocCachedRecordWords);

inline constexpr uint64_t MakeHeader(EventKind kind, uint32_t frames, uint64_t words,
                                     uint32_t cache_ref = 0) {
  return static_cast<uint64_t>(kind) | (uint64_t{frames} << 8) | (words << 16) |
         (uint64_t{cache_ref} << 32);
}
// The same as MakeHeader(kAlloc, frames, kRecordHeaderWords + frames), in a
// multiply and an add: frames (<= kMaxFrames) carry into neither field's neighbour.
inline constexpr uint64_t AllocHeader(uint32_t frames) {
  return MakeHeader(EventKind::kAlloc, 0, kRecordHeaderWords) +
         uint64_t{frames} * MakeHeader(EventKind{0}, 1, 1);
}
static_assert(AllocHeader(kMaxFrames) ==
              MakeHeader(EventKind::kAlloc, kMaxFrames, kRecordHeaderWords + kMaxFrames));
inline constexpr uint64_t kAllocCachedLongHeader =
    MakeHeader(EventKind::kAllocCachedLong, 0, kRecordHeaderWords);
inline constexpr uint64_t kFreeLongHeader =
    MakeHeader(EventKind::kFreeLong, 0, kFreeLongRecordWords);

// Any record's kind (bits 4-7 of word 0 are 0 but in a packed record).
inline constexpr EventKind HeaderKind(uint64_t h) {
  return static_cast<EventKind>(h & kKindMask);
}
inline constexpr uint32_t HeaderFrames(uint64_t h) {
  return (h >> 8) & 0xff;
}
inline constexpr uint32_t HeaderWords(uint64_t h) {
  return (h >> 16) & 0xffff;
}
inline constexpr uint32_t HeaderCacheRef(uint64_t h) {
  return static_cast<uint32_t>(h >> 32);
}

// --- writing (the application thread) ---------------------------------------

inline constexpr uint64_t ShortWord0(EventKind kind, uint64_t time) {
  return static_cast<uint64_t>(kind) | time << 8;
}
// Whether a cached allocation at `time` of `size` bytes has a short record:
// one test for both fields.
inline constexpr bool FitsAllocCached(uint64_t time, uint64_t size) {
  return ((time >> kShortTimestampBits) | (size >> kShortSizeBits)) == 0;
}
inline constexpr uint64_t SizeAndRef(uint64_t size, uint32_t cache_ref) {
  return size | uint64_t{cache_ref} << kShortSizeBits;
}
// Whether a record at `time`, the ring's previous one at `previous`, of this
// address has a packed word 0 (a clock that went back does not); that word.
inline constexpr bool FitsPacked(uint64_t time, uint64_t previous, uint64_t address) {
  return (((time - previous) >> kPackedDeltaBits) | (address >> kPackedAddressBits)) == 0;
}
inline constexpr uint64_t PackedWord0(EventKind kind, uint64_t time, uint64_t previous,
                                      uint64_t address) {
  return static_cast<uint64_t>(kind) | (time - previous) << 4 | address << kPackedAddressShift;
}

// An allocation's record at `rec` (room for kMaxRecordWords), from the long
// form's header: kAllocCachedLongHeader | reference << 32, or a kAlloc header
// whose frames are already at rec + kRecordHeaderWords. `previous` is the
// time of the ring's previous record. A cached one is packed, or else short,
// when its values fit. Returns the record's length in words.
inline uint32_t EncodeAlloc(uint64_t* rec, uint64_t long_header, uint64_t time, uint64_t previous,
                            uint64_t address, uint64_t size) {
  if (HeaderKind(long_header) == EventKind::kAllocCachedLong) {
    if ((size >> kShortSizeBits) == 0 && FitsPacked(time, previous, address)) {
      rec[0] = PackedWord0(EventKind::kAllocPacked, time, previous, address);
      rec[1] = SizeAndRef(size, HeaderCacheRef(long_header));
      return kAllocPackedRecordWords;
    }
    if (FitsAllocCached(time, size)) {
      rec[0] = ShortWord0(EventKind::kAllocCached, time);
      rec[1] = address;
      rec[2] = SizeAndRef(size, HeaderCacheRef(long_header));
      return kAllocCachedRecordWords;
    }
  }
  rec[0] = long_header;
  rec[1] = time;
  rec[2] = address;
  rec[3] = size;
  return HeaderWords(long_header);
}
// A free's record at `rec` (room for kFreeLongRecordWords); its length.
inline uint32_t EncodeFree(uint64_t* rec, uint64_t time, uint64_t previous, uint64_t address) {
  if (FitsPacked(time, previous, address)) {
    rec[0] = PackedWord0(EventKind::kFreePacked, time, previous, address);
    return kFreePackedRecordWords;
  }
  if (time <= kMaxShortTimestamp) {
    rec[0] = ShortWord0(EventKind::kFree, time);
    rec[1] = address;
    return kFreeRecordWords;
  }
  rec[0] = kFreeLongHeader;
  rec[1] = time;
  rec[2] = address;
  return kFreeLongRecordWords;
}

// --- reading (the drain thread) ---------------------------------------------

// A record's length in words, from its first word.
inline constexpr uint32_t RecordWords(uint64_t word0) {
  if (IsPackedKind(word0))
    return HeaderKind(word0) == EventKind::kFreePacked ? kFreePackedRecordWords
                                                       : kAllocPackedRecordWords;
  return IsShortKind(word0) ? static_cast<uint32_t>(word0 & kKindMask) : HeaderWords(word0);
}
// A record's timestamp, `previous` that of the ring's record before it;
// `word1` is only read for a long record.
template <typename Word1>
inline uint64_t RecordTime(uint64_t word0, uint64_t previous, Word1 word1) {
  if (IsPackedKind(word0)) return previous + ((word0 >> 4) & kMaxPackedDelta);
  return IsShortKind(word0) ? word0 >> 8 : word1();
}
inline uint64_t RecordTime(const uint64_t* rec, uint64_t previous) {
  return RecordTime(rec[0], previous, [rec] { return rec[1]; });
}
inline constexpr bool IsFreeKind(EventKind k) {
  return k == EventKind::kFreePacked || k == EventKind::kFree || k == EventKind::kFreeLong;
}
// A kFreePacked, kFree or kFreeLong record's address.
inline uint64_t FreeAddress(const uint64_t* rec) {
  switch (HeaderKind(rec[0])) {
    case EventKind::kFreePacked:
      return rec[0] >> kPackedAddressShift;
    case EventKind::kFree:
      return rec[1];
    default:
      return rec[2];
  }
}
// A kAlloc, kAllocPacked, kAllocCached or kAllocCachedLong record's fields.
struct AllocFields {
  uint64_t address;
  uint64_t size;
  uint32_t cache_ref;
};
inline AllocFields DecodeAlloc(const uint64_t* rec) {
  switch (HeaderKind(rec[0])) {
    case EventKind::kAllocPacked:
      return {rec[0] >> kPackedAddressShift, rec[1] & kMaxShortSize,
              static_cast<uint32_t>(rec[1] >> kShortSizeBits)};
    case EventKind::kAllocCached:
      return {rec[1], rec[2] & kMaxShortSize, static_cast<uint32_t>(rec[2] >> kShortSizeBits)};
    default:
      return {rec[2], rec[3], HeaderCacheRef(rec[0])};
  }
}

}  // namespace leakscope::preload
