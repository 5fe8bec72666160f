// When the daemon dumps a process on its own besides --snapshot-interval:
// near its memory limit (--dump-at-limit), at a new high-water mark of its
// live heap (--dump-on-high-water) and on memory pressure (--dump-on-pressure:
// the PSI trigger is collector/memory_pressure.h). Decisions only, one object
// per stream; the server feeds it what it reads (cgroup files, live bytes).
#pragma once

#include <cstdint>

namespace leakscope::collector {

struct DumpOptions {
  uint32_t at_limit_percent = 0;    // 1..100; 0 = off
  uint32_t high_water_percent = 0;  // 1..1000; 0 = off
  uint64_t high_water_from = 0;     // the series starts above this (--dump-above, else 1 MiB)
  uint32_t pressure_stall_ms = 0;   // 1..1999 per 2 s window; 0 = off
  uint64_t limit_bytes = 0;         // --limit-bytes: the limit where the cgroup sets none
};

// The near-limit dump fires again only after usage fell this many points below.
inline constexpr uint32_t kLimitRearmPoints = 5;
// At most one pressure dump per process this often (a trigger fires once per 2 s window).
inline constexpr uint64_t kPressureSpacingNs = 10'000'000'000;
// Live bytes moved by a hundredth of the limit since the last look: look again now,
// not at the next tick (a fast leak crosses 10% of a limit within one tick).
inline constexpr uint64_t kLimitLookFraction = 100;

class DumpTriggers {
 public:
  explicit DumpTriggers(const DumpOptions& options = {}) : options_(options) {}

  // `usage` of `limit` now: true once usage reaches at_limit_percent of it,
  // again after it fell kLimitRearmPoints below.
  bool NearLimit(uint64_t usage, uint64_t limit);
  // True when `live_bytes` is a new high at least high_water_percent above
  // the previous high-water dump (the first: above high_water_from).
  bool NewHighWater(uint64_t live_bytes);
  // True if the limit should be read now, after the live heap moved to `live_bytes`.
  bool LimitLookDue(uint64_t live_bytes) const;
  void LimitLooked(uint64_t live_bytes, uint64_t limit);
  // True if a pressure event at `now_ns` (monotonic) may dump this process.
  bool PressureDue(uint64_t now_ns);

 private:
  DumpOptions options_;
  bool limit_armed_ = true;
  uint64_t high_water_ = 0;  // live bytes of the last high-water dump; 0: none yet
  uint64_t looked_live_ = 0, looked_limit_ = 0;
  uint64_t last_pressure_ns_ = 0;
  bool pressure_dumped_ = false;
};

}  // namespace leakscope::collector
