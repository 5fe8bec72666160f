// Byte-based Poisson sampling, as in tcmalloc and heapprofd.
//
// Sample points fall on the stream of allocated bytes as a Poisson process of
// rate 1/R (R = LEAKSCOPE_SAMPLE_INTERVAL). An allocation of s bytes is
// sampled if a point falls inside it, which happens with probability
// p(s) = 1 - exp(-s/R), independently of every other allocation (the process
// is memoryless). So a sampled allocation stands for s/p(s) bytes and 1/p(s)
// allocations: an unbiased (Horvitz-Thompson) estimate. Each thread keeps the
// bytes left until its next point, drawn from Exp(mean R); the fast path is
// one subtraction and one branch.
//
// Allocations of at least R bytes are always sampled and stand for themselves
// (weight 1): they are rare, and exactness there costs nothing. They do not
// consume the countdown, so the Poisson process over smaller allocations is
// untouched. The collector applies the same rule (collector/process_state.cc).
//
// The fast path (MaybeSample, inlined into malloc) is one compare against a
// per-thread limit and one countdown: R itself when sampling, 0 when every
// allocation is recorded (R = 1) or before Init (zero-filled TLS), so that
// those always take the slow path.
#pragma once

#include <cmath>
#include <cstdint>

namespace leakscope::preload {

class Sampler {
 public:
  // `seed` makes the sequence reproducible (LEAKSCOPE_SEED + thread index).
  void Init(uint64_t interval, uint64_t seed) {
    interval_ = interval;
    small_limit_ = interval > 1 ? interval : 0;
    state_ = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
    if (!state_) state_ = 1;
    bytes_left_ = NextGap();
    initialized_ = true;
  }
  bool initialized() const { return initialized_; }

  // The inlined fast path: false means certainly not sampled. (An
  // uninitialized sampler has 0 bytes left, so its first call says maybe.)
  bool MaybeSample(uint64_t size) {
    if (size >= small_limit_) return true;  // always sampled, never counted down
    bytes_left_ -= static_cast<int64_t>(size);
    return bytes_left_ <= 0;
  }
  // After MaybeSample said maybe: the decision (always yes), resetting the
  // countdown unless the allocation was a large one, which never touched it.
  bool Decide(uint64_t size) {
    if (size < small_limit_) bytes_left_ = NextGap();  // memoryless: count from here
    return true;
  }
  // True if this allocation is sampled.
  bool Sample(uint64_t size) { return MaybeSample(size) && Decide(size); }

  // The expected number of bytes (or allocations, with size 1 weight) a sample
  // of `size` bytes stands for at interval R.
  static double Weight(uint64_t size, uint64_t interval) {
    if (interval <= 1 || size >= interval) return 1.0;
    return 1.0 / -std::expm1(-double(size) / double(interval));
  }

 private:
  uint64_t NextRandom() {  // xorshift64*
    state_ ^= state_ >> 12;
    state_ ^= state_ << 25;
    state_ ^= state_ >> 27;
    return state_ * 0x2545F4914F6CDD1Dull;
  }
  int64_t NextGap() {
    // u in (0, 1]: 53 random bits, +1 so log never sees 0.
    const double u = double((NextRandom() >> 11) + 1) * (1.0 / 9007199254740992.0);
    return static_cast<int64_t>(-std::log(u) * double(interval_)) + 1;
  }

  // No initializers: thread-local storage is zero-filled, and a __thread
  // variable must not need a constructor.
  int64_t bytes_left_;
  uint64_t small_limit_;  // allocations below it are counted down; see the top
  uint64_t interval_;
  uint64_t state_;
  bool initialized_;
};

}  // namespace leakscope::preload
