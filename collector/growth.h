// Leak suspects from a site's live-bytes history: a leak keeps rising (no
// sawtooth, no plateau); a bounded cache levels off; request buffers rise and
// fall. A series is a suspect when all of these hold:
//   - at least kMinPoints known points;
//   - the means of its first, middle and last thirds strictly increase;
//   - its least-squares slope is positive;
//   - at least 80% of its steps are non-decreasing (monotonicity) and what it
//     gives back is at most 20% of what it gains (no sawtooth);
//   - its last third still rises at a quarter of the overall slope (no plateau).
// Confidence = R^2 of the fit * monotonicity * (1 - given back / gained).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace leakscope::collector {

struct SeriesPoint {
  uint64_t time_ns;
  uint64_t bytes;
};

struct Growth {
  double bytes_per_hour = 0;
  double confidence = 0;  // 0..1
};

inline constexpr size_t kMinGrowthPoints = 10;

// nullopt unless `series` (in time order) looks like sustained growth.
std::optional<Growth> SustainedGrowth(const std::vector<SeriesPoint>& series);

}  // namespace leakscope::collector
