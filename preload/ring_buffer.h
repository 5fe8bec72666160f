// A single-producer single-consumer ring of 64-bit words, one per thread.
//
// The producer is an application thread inside malloc/free; the consumer is
// the drain thread. The producer never locks, never makes a syscall and never
// allocates: a push is a bounds check against a cached read position, a copy
// and one release store. Records are variable length (header word first) and
// may wrap around the end of the buffer.
//
// Positions are free-running word counters (never reset, never wrap in
// practice: 2^64 words), so "empty" is read == write and "free space" is
// capacity - (write - read). That is also why a ring can be handed from an
// exited thread to a new one without any reset.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace leakscope::preload {

class RingBuffer {
 public:
  // `words` must be a power of two; `storage` holds that many words and
  // outlives the ring.
  void Init(uint64_t* storage, size_t words) {
    data_ = storage;
    mask_ = words - 1;
    write_.store(0, std::memory_order_relaxed);
    read_.store(0, std::memory_order_relaxed);
    cached_read_ = 0;
    next_fill_check_ = 0;
    UpdateLimits(0);
  }

  size_t capacity_words() const { return mask_ + 1; }

  // Producer side. Copies `n` words or returns false if they do not fit.
  bool TryPush(const uint64_t* record, size_t n) {
    const uint64_t w = write_.load(std::memory_order_relaxed);
    if (w + n - cached_read_ > capacity_words()) {
      // Only now pay for the shared cache line the consumer writes.
      cached_read_ = read_.load(std::memory_order_acquire);
      if (w + n - cached_read_ > capacity_words()) return false;
    }
    CopyIn(w, record, n);
    write_.store(w + n, std::memory_order_release);
    UpdateLimits(w + n);
    return true;
  }

  // Producer side, the common case in one compare: room for up to `n` words
  // in place, neither wrapping around the end nor reaching the consumer's
  // position as last seen. Null otherwise: then Reserve (or TryPush), which
  // look further. Commit as for Reserve.
  uint64_t* ReserveFast(size_t n) {
    const uint64_t w = write_.load(std::memory_order_relaxed);
    if (w + n > fast_end_) return nullptr;
    uint64_t* slot = data_ + (w & mask_);
    if (slot == nullptr) __builtin_unreachable();  // so the caller's null check folds away
    return slot;
  }

  // Producer side, zero-copy: room for up to `n` words written in place at
  // the write position, or null if they do not fit or would wrap around the
  // end (then use TryPush). Commit(m <= n) publishes what was written.
  uint64_t* Reserve(size_t n) {
    const uint64_t w = write_.load(std::memory_order_relaxed);
    const size_t start = w & mask_;
    UpdateLimits(w);
    if (start + n > capacity_words()) return nullptr;
    if (w + n - cached_read_ > capacity_words()) {
      cached_read_ = read_.load(std::memory_order_acquire);
      UpdateLimits(w);
      if (w + n - cached_read_ > capacity_words()) return nullptr;
    }
    return data_ + start;
  }
  // Publishes the first `m` (<= n) words reserved. True if the ring may now
  // be past half full: then ask PastHalfFull (false: it would say false).
  bool Commit(size_t m) {
    const uint64_t w = write_.load(std::memory_order_relaxed) + m;
    write_.store(w, std::memory_order_release);
    return w > half_mark_;
  }

  // Producer side: whether `n` words would fit (refreshing the cached read
  // position only when they would not). Lets a producer that would drop skip
  // the expensive part of making a record.
  bool HasSpace(size_t n) {
    const uint64_t w = write_.load(std::memory_order_relaxed);
    if (w + n - cached_read_ <= capacity_words()) return true;
    cached_read_ = read_.load(std::memory_order_acquire);
    UpdateLimits(w);
    return w + n - cached_read_ <= capacity_words();
  }

  // Producer side: words in use, as the producer last saw it (for "wake the
  // drain thread when half full" without touching the consumer's line).
  size_t ProducerFill() const { return write_.load(std::memory_order_relaxed) - cached_read_; }
  // The same after reading the consumer's position: the cached one only goes
  // stale in one direction (fuller than true).
  size_t RefreshedFill() {
    cached_read_ = read_.load(std::memory_order_acquire);
    const uint64_t w = write_.load(std::memory_order_relaxed);
    UpdateLimits(w);
    return w - cached_read_;
  }

  // Producer side: whether the ring is past half full, so the consumer should
  // be woken early. The stale estimate is refreshed from the consumer's
  // position before it is believed (else a ring that is rarely pushed to, as
  // in sampled mode, would wake the consumer on every push once half a ring
  // had gone through), but at most once per 1/16 of the ring (else a ring
  // that is truly full would read the consumer's line on every push).
  bool PastHalfFull() {
    const uint64_t w = write_.load(std::memory_order_relaxed);
    const size_t half = capacity_words() / 2;
    if (w - cached_read_ <= half) return false;
    if (w >= next_fill_check_) {
      next_fill_check_ = w + capacity_words() / 16;
      cached_read_ = read_.load(std::memory_order_acquire);
      UpdateLimits(w);
    }
    return w - cached_read_ > half;
  }

  // Consumer side: a snapshot of readable data.
  uint64_t ReadPos() const { return read_.load(std::memory_order_relaxed); }
  uint64_t WritePos() const { return write_.load(std::memory_order_acquire); }
  uint64_t WordAt(uint64_t pos) const { return data_[pos & mask_]; }
  // The `n` words at `pos` in place if they do not wrap, else copied to `tmp`.
  const uint64_t* View(uint64_t pos, uint64_t* tmp, size_t n) const {
    const size_t start = pos & mask_;
    if (start + n <= capacity_words()) return data_ + start;
    CopyOut(pos, tmp, n);
    return tmp;
  }
  void CopyOut(uint64_t pos, uint64_t* out, size_t n) const {
    const size_t start = pos & mask_;
    const size_t first = n < capacity_words() - start ? n : capacity_words() - start;
    std::memcpy(out, data_ + start, first * sizeof(uint64_t));
    std::memcpy(out + first, data_, (n - first) * sizeof(uint64_t));
  }
  // Releases everything before `pos` back to the producer.
  void ReleaseTo(uint64_t pos) { read_.store(pos, std::memory_order_release); }

 private:
  // ReserveFast's and Commit's limits, from the write position `w` and the
  // consumer's position as last seen: recomputed wherever either is looked at
  // again. In between they only err low, which sends the caller the long way
  // (cached_read_ only grows, and a write position past the buffer's end they
  // were computed for is past fast_end_ too).
  void UpdateLimits(uint64_t w) {
    const uint64_t buffer_end = (w | mask_) + 1;
    const uint64_t full = cached_read_ + capacity_words();
    fast_end_ = full < buffer_end ? full : buffer_end;
    half_mark_ = cached_read_ + capacity_words() / 2;
  }

  void CopyIn(uint64_t pos, const uint64_t* in, size_t n) {
    const size_t start = pos & mask_;
    if (start + n <= capacity_words()) {  // the common case: a short inline copy
      // Four words per step (two 16-byte moves), not one: a record is 1 to
      // 68 words, and this is on the program's thread.
      uint64_t* out = data_ + start;
      size_t i = 0;
      for (; i + 4 <= n; i += 4) std::memcpy(out + i, in + i, 4 * sizeof(uint64_t));
      for (; i < n; ++i) out[i] = in[i];
      return;
    }
    const size_t first = n < capacity_words() - start ? n : capacity_words() - start;
    std::memcpy(data_ + start, in, first * sizeof(uint64_t));
    std::memcpy(data_, in + first, (n - first) * sizeof(uint64_t));
  }

  // Read-only after Init, on a line of their own so neither side's writes
  // evict them from the other's cache.
  alignas(64) uint64_t* data_ = nullptr;
  uint64_t mask_ = 0;
  // Producer's line: its write position and its stale copy of read_.
  alignas(64) std::atomic<uint64_t> write_{0};
  uint64_t cached_read_ = 0;
  uint64_t next_fill_check_ = 0;  // PastHalfFull's next look at read_
  uint64_t fast_end_ = 0;         // ReserveFast's limit (a write position)
  uint64_t half_mark_ = 0;        // past it, ask PastHalfFull (a write position)
  // Consumer's line.
  alignas(64) std::atomic<uint64_t> read_{0};
};

}  // namespace leakscope::preload
