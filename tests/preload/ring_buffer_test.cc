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

// One producer, one consumer, concurrently: every record arrives once, in
// order, intact. Run under ThreadSanitizer too (target ring_buffer_tsan_test).
TEST(RingBuffer, ConcurrentProducerAndConsumerLoseNothing) {
  std::vector<uint64_t> storage(256);
  RingBuffer ring;
  ring.Init(storage.data(), storage.size());
  constexpr uint64_t kRecords = 200000;
  std::thread producer([&] {
    for (uint64_t i = 0; i < kRecords; ++i) {
      const size_t n = 2 + i % 5;  // variable length, 2..6 words
      uint64_t rec[6] = {n, i, ~i, i ^ 0x5555, i + 7, i * 3};
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
