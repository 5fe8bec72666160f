// Weights of one recorded allocation. In sampled mode (interval R > 1) an
// allocation of s < R bytes is recorded with probability p = 1 - exp(-s/R),
// so it stands for s/p bytes and 1/p allocations (Horvitz-Thompson); it adds
// (1-p)*(s/p)^2 to the variance of the byte estimate. An allocation of s >= R
// bytes is always recorded (preload/sampler.h) and stands for itself.
//
// Sums are kept in fixed point, not double, so that a free subtracts exactly
// what its allocation added, however many events come and go.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace leakscope::collector {

inline constexpr int kByteFracBits = 8;    // bytes in 1/256
inline constexpr int kCountFracBits = 16;  // allocations in 1/65536

struct SampleWeight {
  uint64_t bytes_fp = 0;
  uint64_t count_fp = uint64_t(1) << kCountFracBits;
  double variance = 0;
};

inline uint64_t ToFixed(double value, int frac_bits) {
  double scaled = std::round(std::ldexp(value, frac_bits));
  return scaled >= 0x1p63 ? uint64_t(1) << 63 : static_cast<uint64_t>(scaled);
}
inline uint64_t FromFixed(uint64_t fp, int frac_bits) {
  return (fp >> frac_bits) + ((fp >> (frac_bits - 1)) & 1);  // round half up
}

// Computes weights for one sampling interval; small sizes come from a table
// because exp() would dominate the per-event cost.
class SampleWeights {
 public:
  explicit SampleWeights(uint64_t interval = 1) : interval_(interval ? interval : 1) {
    if (interval_ > 1) {
      table_.resize(kTableSize);
      for (uint64_t s = 0; s < kTableSize; ++s) table_[s] = Compute(s);
    }
  }

  bool exact() const { return interval_ == 1; }
  uint64_t interval() const { return interval_; }

  SampleWeight For(uint64_t size) const {
    if (exact()) return {size << kByteFracBits, uint64_t(1) << kCountFracBits, 0};
    return size < kTableSize ? table_[size] : Compute(size);
  }

 private:
  static constexpr uint64_t kTableSize = 4096;

  SampleWeight Compute(uint64_t size) const {
    if (size == 0) return {};  // never sampled in practice; count it once
    if (size >= interval_) return {size << kByteFracBits, uint64_t(1) << kCountFracBits, 0};
    const double s = static_cast<double>(size);
    const double p = 1.0 - std::exp(-s / static_cast<double>(interval_));
    const double bytes = s / p;
    return {ToFixed(bytes, kByteFracBits), ToFixed(1.0 / p, kCountFracBits),
            (1.0 - p) * bytes * bytes};
  }

  uint64_t interval_;
  std::vector<SampleWeight> table_;
};

}  // namespace leakscope::collector
