// The record an application thread writes into its ring for one event.
//
//   word 0  header: kind | frame count << 8 | record length in words << 16
//           | stack cache reference << 32
//   word 1  timestamp (Clock::Now)
//   word 2  address
//   word 3  requested size (allocations; 0 for frees)
//   word 4… return addresses, innermost first (kAlloc only)
//
// The stack cache reference (StackCache::Ref, 0 = none) names an entry of the
// thread's stack cache and its version. On a kAlloc record it says "these
// frames are now that entry"; a kAllocCached record carries no frames, only
// the reference: the drain keeps a copy of each entry (ThreadRing::mirror),
// made from the kAlloc record that stored it, earlier in the same ring.
#pragma once

#include <cstdint>

namespace leakscope::preload {

enum class EventKind : uint8_t { kAlloc = 1, kFree = 2, kAllocCached = 3 };

inline constexpr int kMaxFrames = 64;
inline constexpr int kRecordHeaderWords = 4;
inline constexpr int kMaxRecordWords = kRecordHeaderWords + kMaxFrames;

inline uint64_t MakeHeader(EventKind kind, uint32_t frames, uint32_t cache_ref = 0) {
  const uint64_t words = kRecordHeaderWords + frames;
  return static_cast<uint64_t>(kind) | (uint64_t{frames} << 8) | (words << 16) |
         (uint64_t{cache_ref} << 32);
}
inline uint32_t HeaderCacheRef(uint64_t h) {
  return static_cast<uint32_t>(h >> 32);
}
inline EventKind HeaderKind(uint64_t h) {
  return static_cast<EventKind>(h & 0xff);
}
inline uint32_t HeaderFrames(uint64_t h) {
  return (h >> 8) & 0xff;
}
inline uint32_t HeaderWords(uint64_t h) {
  return (h >> 16) & 0xffff;
}

}  // namespace leakscope::preload
