// Live figures of a function's allocations in a report, whatever the call
// paths into it (each path is a site of its own).
#pragma once

#include <cstdint>
#include <string>

#include "report.pb.h"

namespace leakscope::viewer::testing {

struct LiveSum {
  uint64_t bytes = 0;
  uint64_t allocations = 0;
};

// Summed over the sites whose innermost frame is `function`.
inline LiveSum LiveWhereInnermost(const report::Report& r, const std::string& function) {
  LiveSum sum;
  for (const report::Site& s : r.sites()) {
    if (s.frames_size() == 0 || s.frames(0) >= uint64_t(r.frames_size())) continue;
    if (r.frames(int(s.frames(0))).function() != function) continue;
    sum.bytes += s.live_bytes();
    sum.allocations += s.live_allocations();
  }
  return sum;
}

}  // namespace leakscope::viewer::testing
