// The daemon's memory budget across all streams (leakscoped --max-memory).
// Before, 197 KB of valid input (LZ4 frames of packed events, each a live
// allocation) took the daemon to 1.5 GiB, and 20 half-sent 16 MiB frames held
// 367 MiB. Now each stream is charged what it holds (its decoder's buffers,
// live table, stack ids, sites, modules: an estimate from their capacities),
// and asked, before each step that takes more (buffering a frame, decoding
// it, applying its message), whether the most that step may take still fits.
// A stream that would break the budget is cut short with the reason; its
// report is still written, and what it held is freed.
#pragma once

#include <cstdint>
#include <string>

namespace leakscope::collector {

class MemoryBudget {
 public:
  // 0: no budget (`leakscope run`: the user's own processes).
  explicit MemoryBudget(uint64_t limit = 0) : limit_(limit) {}

  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_; }

  // A stream charged `*charged` so far now holds `bytes`.
  void Charge(uint64_t* charged, uint64_t bytes) {
    used_ = used_ - *charged + bytes;
    *charged = bytes;
  }

  // "" if `more` bytes on top of what is charged fit; else the one-line
  // reason, naming `what` would take them.
  std::string Refuse(uint64_t more, const std::string& what) const;

 private:
  uint64_t limit_ = 0;
  uint64_t used_ = 0;
};

// A quarter of the machine's memory (MemTotal), the --max-memory default;
// 1 GiB if /proc/meminfo cannot be read.
uint64_t DefaultMaxMemory();

}  // namespace leakscope::collector
