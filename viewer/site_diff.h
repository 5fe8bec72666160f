// Matching the call sites of two reports of the same program. Addresses
// differ from run to run (ASLR, rebuilds), so a site is matched by what its
// frames say: function, file, line and module name, outermost to innermost.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "report.pb.h"
#include "site_table.h"

namespace leakscope::viewer {

// The identity of a stack across reports.
std::string StackKey(const report::Report& report, const std::vector<uint32_t>& frames);

struct SiteChange {
  enum class Kind { kNew, kVanished, kChanged, kSame };
  Kind kind = Kind::kSame;
  // Which report's frame table `frames` indexes: NEW's, or BASE's for a vanished site.
  bool frames_from_base = false;
  std::vector<uint32_t> frames;
  uint64_t base_live_bytes = 0, base_live_allocations = 0, base_allocations = 0;
  uint64_t new_live_bytes = 0, new_live_allocations = 0, new_allocations = 0;

  int64_t GrowthBytes() const;
  int64_t GrowthAllocations() const;
};

// The program's sites (runtime internals and the filter's suppressions left
// out) of both reports, matched by StackKey, sorted by growth in live bytes,
// largest first; sites holding nothing in either report are left out.
std::vector<SiteChange> DiffSites(const report::Report& base, const report::Report& now,
                                  const SiteFilter& filter);

// "NEW", "GONE", "" for a site in both.
const char* ChangeMark(SiteChange::Kind kind);

}  // namespace leakscope::viewer
