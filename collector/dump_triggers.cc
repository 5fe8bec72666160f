#include "dump_triggers.h"

namespace leakscope::collector {

bool DumpTriggers::NearLimit(uint64_t usage, uint64_t limit) {
  if (options_.at_limit_percent == 0 || limit == 0) return false;
  // Compared as usage * 100 against limit * percent: no rounding, no overflow.
  const unsigned __int128 used = static_cast<unsigned __int128>(usage) * 100;
  const unsigned __int128 at = static_cast<unsigned __int128>(limit) * options_.at_limit_percent;
  if (!limit_armed_) {
    const uint32_t rearm = options_.at_limit_percent > kLimitRearmPoints
                               ? options_.at_limit_percent - kLimitRearmPoints
                               : 0;
    if (used < static_cast<unsigned __int128>(limit) * rearm) limit_armed_ = true;
    return false;
  }
  if (used < at) return false;
  limit_armed_ = false;
  return true;
}

bool DumpTriggers::NewHighWater(uint64_t live_bytes) {
  if (options_.high_water_percent == 0) return false;
  const uint64_t base = high_water_ ? high_water_ : options_.high_water_from;
  const unsigned __int128 need =
      static_cast<unsigned __int128>(base) * (100 + options_.high_water_percent);
  if (static_cast<unsigned __int128>(live_bytes) * 100 < need || live_bytes <= base) return false;
  high_water_ = live_bytes;
  return true;
}

bool DumpTriggers::LimitLookDue(uint64_t live_bytes) const {
  if (options_.at_limit_percent == 0) return false;
  if (looked_limit_ == 0) return false;  // no limit seen yet: the tick looks
  const uint64_t moved =
      live_bytes > looked_live_ ? live_bytes - looked_live_ : looked_live_ - live_bytes;
  return moved >= looked_limit_ / kLimitLookFraction;
}

void DumpTriggers::LimitLooked(uint64_t live_bytes, uint64_t limit) {
  looked_live_ = live_bytes;
  looked_limit_ = limit;
}

bool DumpTriggers::PressureDue(uint64_t now_ns) {
  if (options_.pressure_stall_ms == 0) return false;
  if (pressure_dumped_ && now_ns - last_pressure_ns_ < kPressureSpacingNs) return false;
  pressure_dumped_ = true;
  last_pressure_ns_ = now_ns;
  return true;
}

}  // namespace leakscope::collector
