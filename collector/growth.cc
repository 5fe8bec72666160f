#include "growth.h"

#include <algorithm>

namespace leakscope::collector {
namespace {

struct Fit {
  double slope = 0;  // bytes per ns
  double r2 = 0;
};

Fit LeastSquares(const std::vector<SeriesPoint>& s, size_t begin, size_t end) {
  const double n = static_cast<double>(end - begin);
  const double t0 = static_cast<double>(s[begin].time_ns);
  double mx = 0, my = 0;
  for (size_t i = begin; i < end; ++i) {
    mx += (static_cast<double>(s[i].time_ns) - t0) / n;
    my += static_cast<double>(s[i].bytes) / n;
  }
  double sxx = 0, sxy = 0, syy = 0;
  for (size_t i = begin; i < end; ++i) {
    const double dx = static_cast<double>(s[i].time_ns) - t0 - mx;
    const double dy = static_cast<double>(s[i].bytes) - my;
    sxx += dx * dx;
    sxy += dx * dy;
    syy += dy * dy;
  }
  Fit f;
  if (sxx <= 0) return f;
  f.slope = sxy / sxx;
  f.r2 = syy <= 0 ? 0 : (sxy * sxy) / (sxx * syy);
  return f;
}

double Mean(const std::vector<SeriesPoint>& s, size_t begin, size_t end) {
  double sum = 0;
  for (size_t i = begin; i < end; ++i) sum += static_cast<double>(s[i].bytes);
  return sum / static_cast<double>(end - begin);
}

}  // namespace

std::optional<Growth> SustainedGrowth(const std::vector<SeriesPoint>& s) {
  const size_t n = s.size();
  if (n < kMinGrowthPoints) return std::nullopt;
  const size_t a = n / 3, b = n - n / 3;  // thirds: [0,a) [a,b) [b,n)
  if (!(Mean(s, 0, a) < Mean(s, a, b) && Mean(s, a, b) < Mean(s, b, n))) return std::nullopt;
  const Fit all = LeastSquares(s, 0, n);
  if (all.slope <= 0) return std::nullopt;
  size_t rising_steps = 0;
  double gained = 0, given_back = 0;
  for (size_t i = 1; i < n; ++i) {
    const double d = static_cast<double>(s[i].bytes) - static_cast<double>(s[i - 1].bytes);
    rising_steps += d >= 0;
    (d >= 0 ? gained : given_back) += d >= 0 ? d : -d;
  }
  const double monotonicity = static_cast<double>(rising_steps) / static_cast<double>(n - 1);
  const double give_back = gained > 0 ? given_back / gained : 1;
  if (monotonicity < 0.8 || give_back > 0.2) return std::nullopt;
  if (LeastSquares(s, b, n).slope < 0.25 * all.slope) return std::nullopt;  // levelled off
  Growth g;
  g.bytes_per_hour = all.slope * 3600e9;
  g.confidence = std::clamp(all.r2 * monotonicity * (1 - give_back), 0.0, 1.0);
  return g;
}

}  // namespace leakscope::collector
