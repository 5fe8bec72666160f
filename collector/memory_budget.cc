#include "memory_budget.h"

#include <fstream>

namespace leakscope::collector {
namespace {

std::string MiB(uint64_t bytes) {
  return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MiB";
}

}  // namespace

std::string MemoryBudget::Refuse(uint64_t more, const std::string& what) const {
  if (limit_ == 0 || (more <= limit_ && used_ <= limit_ - more)) return "";
  return what + " would take up to " + MiB(more) + " more, over the memory budget (" + MiB(used_) +
         " of " + MiB(limit_) + " in use by all streams; --max-memory)";
}

uint64_t DefaultMaxMemory() {
  std::ifstream in("/proc/meminfo");
  std::string name, unit;
  uint64_t kib = 0;
  while (in >> name >> kib >> unit)
    if (name == "MemTotal:") return kib * 1024 / 4;
  return uint64_t(1) << 30;
}

}  // namespace leakscope::collector
