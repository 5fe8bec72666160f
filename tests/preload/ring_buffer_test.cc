#include "ring_buffer.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace leakscope::preload {
namespace {

TEST(RingBuffer, PushesAndReadsBackRecordsThatWrapAround) {
  std::vector<uint64_t> storage(16);
  RingBuffer ring;
  ring.Init(storage.data(), storage.size());
  uint64_t pos = 0;
  // 3-word records in a 16-word ring: the 6th record wraps.
  for (uint64_t i = 0; i < 40; ++i) {
    const uint64_t rec[3] = {i, i * 10, i * 100};
    ASSERT_TRUE(ring.TryPush(rec, 3));
    uint64_t out[3];
    ASSERT_EQ(ring.WritePos(), pos + 3);
    ring.CopyOut(pos, out, 3);
    EXPECT_EQ(out[0], i);
    EXPECT_EQ(out[1], i * 10);
    EXPECT_EQ(out[2], i * 100);
    pos += 3;
    ring.ReleaseTo(pos);
  }
}

TEST(RingBuffer, RefusesWhatDoesNotFitUntilTheConsumerReleases) {
  std::vector<uint64_t> storage(8);
  RingBuffer ring;
  ring.Init(storage.data(), storage.size());
  const uint64_t rec[3] = {1, 2, 3};
  EXPECT_TRUE(ring.TryPush(rec, 3));
  EXPECT_TRUE(ring.TryPush(rec, 3));
  EXPECT_FALSE(ring.TryPush(rec, 3));  // 6 of 8 used
  EXPECT_TRUE(ring.TryPush(rec, 2));   // exactly full
  EXPECT_FALSE(ring.TryPush(rec, 1));
  ring.ReleaseTo(3);
  EXPECT_TRUE(ring.TryPush(rec, 3));
  EXPECT_EQ(ring.WritePos(), 11u);
}

TEST(RingBuffer, ReservesInPlaceOnlyWhatFitsWithoutWrapping) {
  std::vector<uint64_t> storage(8);
  RingBuffer ring;
  ring.Init(storage.data(), storage.size());
  uint64_t* slot = ring.Reserve(6);  // room for up to 6, 3 written
  ASSERT_EQ(slot, storage.data());
  slot[0] = 7, slot[1] = 8, slot[2] = 9;
  EXPECT_EQ(ring.WritePos(), 0u);  // nothing visible before Commit
  ring.Commit(3);
  EXPECT_EQ(ring.WritePos(), 3u);
  EXPECT_EQ(ring.WordAt(2), 9u);
  EXPECT_EQ(ring.Reserve(6), nullptr);  // would wrap past the end (5 left before it)
  EXPECT_EQ(ring.Reserve(5), storage.data() + 3);
  ring.Commit(5);
  EXPECT_EQ(ring.Reserve(1), nullptr);  // full
  ring.ReleaseTo(3);
  EXPECT_EQ(ring.Reserve(3), storage.data());  // the start again, once released
  EXPECT_EQ(ring.Reserve(4), nullptr);
}

// The producer's fill estimate only refreshes when a push does not fit: it
// overstates. RefreshedFill reads the consumer's position (the shim checks it
// before waking the drain thread, else every sample past half a ring woke it).
TEST(RingBuffer, RefreshedFillSeesWhatTheConsumerReleased) {
  std::vector<uint64_t> storage(16);
  RingBuffer ring;
  ring.Init(storage.data(), storage.size());
  const uint64_t rec[10] = {};
  ASSERT_TRUE(ring.TryPush(rec, 10));
  ring.ReleaseTo(10);                   // the consumer took it all
  EXPECT_EQ(ring.ProducerFill(), 10u);  // stale
  EXPECT_EQ(ring.RefreshedFill(), 0u);
  EXPECT_EQ(ring.ProducerFill(), 0u);  // and the estimate is fresh again
}

// When to wake the consumer early: past half full by the consumer's real
// position, which is read at most once per 1/16 of the ring.
TEST(RingBuffer, PastHalfFullChecksTheConsumerAtMostOncePerSixteenth) {
  std::vector<uint64_t> storage(64);
  RingBuffer ring;
  ring.Init(storage.data(), storage.size());
  const uint64_t rec[8] = {};
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(ring.TryPush(rec, 8));  // 32 of 64: half
  EXPECT_FALSE(ring.PastHalfFull());
  ASSERT_TRUE(ring.TryPush(rec, 2));  // 34
  EXPECT_TRUE(ring.PastHalfFull());   // checked: truly past half
  ring.ReleaseTo(34);                 // the consumer catches up
  ASSERT_TRUE(ring.TryPush(rec, 1));  // 35: within 1/16 (4 words) of the check
  EXPECT_TRUE(ring.PastHalfFull());   // not re-read yet
  ASSERT_TRUE(ring.TryPush(rec, 3));  // 38: a sixteenth later
  EXPECT_FALSE(ring.PastHalfFull());  // re-read: 4 words in use
  EXPECT_EQ(ring.ProducerFill(), 4u);
}

// ReserveFast: in place only by the producer's estimate and without wrapping
// (the slow calls, which look at the consumer's position and the buffer's
// end, let it go on further); Commit says when PastHalfFull must be asked.
TEST(RingBuffer, ReservesFastOnlyWhatSurelyFitsAndCommitFlagsHalfFull) {
  std::vector<uint64_t> storage(16);
  RingBuffer ring;
  ring.Init(storage.data(), storage.size());
  uint64_t* slot = ring.ReserveFast(16);
  ASSERT_EQ(slot, storage.data());
  EXPECT_FALSE(ring.Commit(5));              // 5 of 16
  EXPECT_EQ(ring.ReserveFast(12), nullptr);  // 17 would not fit
  EXPECT_EQ(ring.ReserveFast(11), storage.data() + 5);
  EXPECT_FALSE(ring.Commit(3));  // 8: half, not past it
  EXPECT_TRUE(ring.Commit(1));   // 9: past half, ask PastHalfFull
  EXPECT_TRUE(ring.PastHalfFull());
  ring.ReleaseTo(9);  // the consumer took it all
  EXPECT_EQ(ring.RefreshedFill(), 0u);
  EXPECT_EQ(ring.ReserveFast(7), storage.data() + 9);
  EXPECT_EQ(ring.ReserveFast(8), nullptr);  // would wrap past the end
  EXPECT_FALSE(ring.Commit(7));             // 7 in use
  EXPECT_EQ(ring.ReserveFast(1), nullptr);  // at the end: the next push wraps
  const uint64_t rec[3] = {1, 2, 3};
  ASSERT_TRUE(ring.TryPush(rec, 3));        // the slow push moves past it: 10 in use
  ring.ReleaseTo(19);                       // the consumer took it all
  EXPECT_EQ(ring.ReserveFast(7), nullptr);  // not seen yet: 17 by the estimate
  EXPECT_EQ(ring.RefreshedFill(), 0u);
  EXPECT_EQ(ring.ReserveFast(13), storage.data() + 3);
  EXPECT_EQ(ring.ReserveFast(14), nullptr);  // would wrap past the end
}

// One producer, one consumer, concurrently: every record arrives once, in
// order, intact, whether pushed by copy or written in place. Run under
// ThreadSanitizer too (preload_tsan_tests).
TEST(RingBuffer, ConcurrentProducerAndConsumerLoseNothing) {
  std::vector<uint64_t> storage(256);
  RingBuffer ring;
  ring.Init(storage.data(), storage.size());
  constexpr uint64_t kRecords = 200000;
  std::thread producer([&] {
    for (uint64_t i = 0; i < kRecords; ++i) {
      const size_t n = 2 + i % 5;  // variable length, 2..6 words
      uint64_t rec[6] = {n, i, ~i, i ^ 0x5555, i + 7, i * 3};
      if (i % 3 == 0) {
        if (uint64_t* slot = ring.ReserveFast(6)) {
          for (size_t k = 0; k < n; ++k) slot[k] = rec[k];
          ring.Commit(n);
          continue;
        }
      }
      if (i % 3 == 1) {
        if (uint64_t* slot = ring.Reserve(6)) {
          for (size_t k = 0; k < n; ++k) slot[k] = rec[k];
          ring.Commit(n);
          continue;
        }
      }
      while (!ring.TryPush(rec, n)) std::this_thread::yield();
    }
  });
  uint64_t pos = 0, next = 0, checksum_errors = 0;
  while (next < kRecords) {
    const uint64_t end = ring.WritePos();
    while (pos < end) {
      uint64_t rec[6];
      const size_t n = ring.WordAt(pos);
      ring.CopyOut(pos, rec, n);
      if (rec[1] != next || (n > 2 && rec[2] != ~next)) ++checksum_errors;
      ++next;
      pos += n;
    }
    ring.ReleaseTo(pos);
  }
  producer.join();
  EXPECT_EQ(next, kRecords);
  EXPECT_EQ(checksum_errors, 0u);
  EXPECT_EQ(ring.WritePos(), pos);
}

}  // namespace
}  // namespace leakscope::preload
