// A process's history at bounded size, however long it runs: process live
// bytes, RSS, cumulative allocations and frees, and the live bytes of the
// largest sites, sampled every `interval` of the process's own clock (the
// time_ns the shim puts on events and stats). When the points fill up,
// adjacent pairs are merged and the interval doubles, so a day-long service
// keeps evenly spaced points over its whole life.
//
// Per-site series are kept for at most kTrackedSites sites (bounded
// cardinality): at each sample the largest sites by live bytes claim a slot,
// evicting a tracked site that has become smaller. A slot's values before its
// site claimed it are unknown (kUnknown), never a guess.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "process_state.h"

namespace leakscope::collector {

class Timeline {
 public:
  static constexpr size_t kTrackedSites = 16;
  static constexpr uint64_t kUnknown = UINT64_MAX;
  static constexpr uint32_t kNoSite = UINT32_MAX;

  struct Point {
    uint64_t time_ns = 0;  // the process's clock: ns since it started
    uint64_t live_bytes = 0;
    uint64_t rss_bytes = 0;
    uint64_t allocations = 0;                        // cumulative
    uint64_t frees = 0;                              // cumulative
    std::array<uint64_t, kTrackedSites> site_bytes;  // per slot; kUnknown before it was claimed
    // The memory figures last known (ProcessStats::memory); 0 before any.
    bool memory_known = false;
    uint64_t allocator_in_use_bytes = 0, allocator_free_bytes = 0, allocator_mapped_bytes = 0,
             anonymous_bytes = 0, stack_bytes = 0, file_bytes = 0;
  };

  explicit Timeline(uint64_t interval_ns = 100'000'000, size_t max_points = 512);

  // After each applied message: samples if the process's clock (the
  // message's events or stats time) is an interval past the last point.
  void Observe(const ProcessState& state, const wire::Message& message);
  // Takes a point at `time_ns` unconditionally (tests; the final point).
  void Sample(const ProcessState& state, uint64_t time_ns);

  const std::vector<Point>& points() const { return points_; }
  // The state's site index tracked in each slot, or kNoSite.
  const std::array<uint32_t, kTrackedSites>& slot_sites() const { return slot_site_; }
  uint64_t interval_ns() const { return interval_ns_; }
  uint64_t last_time_ns() const { return last_time_ns_; }

 private:
  void ClaimSlots(const ProcessState& state);
  void Halve();

  uint64_t interval_ns_;
  size_t max_points_;
  uint64_t last_time_ns_ = 0;  // the latest clock seen
  std::vector<Point> points_;
  std::array<uint32_t, kTrackedSites> slot_site_;
};

}  // namespace leakscope::collector
