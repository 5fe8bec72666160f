// The record an application thread writes into its ring for one event.
//
//   word 0  header: kind | frame count << 8 | record length in words << 16
//           | stack cache reference << 32
//   word 1  timestamp (Clock::Now)
//   word 2  address
//   word 3  requested size (allocations only: a free is 3 words)
//   word 4… return addresses, innermost first (kAlloc only)
//
// The stack cache reference (StackCache::MakeRef, 0 = none) names an entry of
// the thread's stack cache and its version. On a kAlloc record it says "these
// frames are now that entry"; a kAllocCached record carries no frames, only
// the reference: the drain keeps a copy of each entry (ThreadRing::mirror),
// made from the kAlloc record that stored it, earlier in the same ring.
//
// Anonymous mappings (preload/mappings.cc) have records of their own, never
// cached (mappings are rare: each is unwound in full):
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
  kFree = 2,
  kAllocCached = 3,
  kMap = 4,
  kUnmap = 5,
  kRemapBegin = 6,
  kRemapBeginKeepOld = 7,
  kRemapEnd = 8,
};

inline constexpr int kMaxFrames = 64;
inline constexpr int kRecordHeaderWords = 4;  // of an allocation, before its frames
inline constexpr int kFreeRecordWords = 3;
inline constexpr int kMaxRecordWords = kRecordHeaderWords + kMaxFrames;
inline constexpr int kUnmapRecordWords = 4;
inline constexpr int kRemapEndRecordWords = 5;
inline constexpr bool IsMappingKind(EventKind k) {
  return k >= EventKind::kMap;
}

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
inline constexpr uint64_t kFreeHeader = MakeHeader(EventKind::kFree, 0, kFreeRecordWords);
inline constexpr uint64_t kAllocCachedHeader =
    MakeHeader(EventKind::kAllocCached, 0, kRecordHeaderWords);
inline EventKind HeaderKind(uint64_t h) {
  return static_cast<EventKind>(h & 0xff);
}
inline uint32_t HeaderFrames(uint64_t h) {
  return (h >> 8) & 0xff;
}
inline uint32_t HeaderWords(uint64_t h) {
  return (h >> 16) & 0xffff;
}
inline uint32_t HeaderCacheRef(uint64_t h) {
  return static_cast<uint32_t>(h >> 32);
}

}  // namespace leakscope::preload
