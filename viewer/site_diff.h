// Matching the call sites of two reports of the same program. Addresses
// differ from run to run (ASLR, rebuilds), so a site is matched by what its
// frames say: function, file and module name. Line numbers move when code
// above a site is edited, so they only break ties: among look-alike sites
// (same functions, files and modules, other lines) the nearest lines pair
// first. Grouped (--by function|file|module), a row is matched by what it was
// grouped by.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "report.pb.h"
#include "site_table.h"

namespace leakscope::viewer {

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

// The program's rows (runtime internals and the filter's suppressions left
// out, grouped as filter.by says) of both reports, matched as above, sorted
// by growth in live bytes, largest first; rows holding nothing in either
// report are left out.
std::vector<SiteChange> DiffSites(const report::Report& base, const report::Report& now,
                                  const SiteFilter& filter);

// "NEW", "GONE", "" for a site in both.
const char* ChangeMark(SiteChange::Kind kind);

}  // namespace leakscope::viewer
