// `leakscope check`'s verdict: is what a report leaked within budget? Only
// the program's own sites count: runtime internals never, suppressed sites
// never. With a baseline, the growth limit applies to what got worse since.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "report.pb.h"
#include "site_table.h"

namespace leakscope::viewer {

struct GateLimits {
  std::optional<uint64_t> max_leaked;       // all sites together
  std::optional<uint64_t> max_site_leaked;  // any one site
  std::optional<uint64_t> max_growth;       // with a baseline: total, and any one site
  SiteFilter filter;                        // suppressions (and --include/--exclude)
  bool full_names = false;                  // template arguments in full in site lines
  bool include_shutdown = false;            // held until shutdown counts (shutdown_gate.h)
  // Only definitely and indirectly lost blocks count as leaked (a report with
  // a reachability scan: reachability_rows.h); still reachable ones do not.
  bool lost_only = false;
};

struct GateVerdict {
  bool pass = true;
  std::string explanation;  // one line if passed; a line per broken limit and offending site
};

// With no limit at all, and no baseline, the budget is zero leaked bytes.
GateVerdict EvaluateGate(const report::Report& report, const report::Report* baseline,
                         const GateLimits& limits);

}  // namespace leakscope::viewer
