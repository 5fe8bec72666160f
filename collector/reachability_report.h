// A reachability scan's verdicts into the report: per site (Site.*_lost_*,
// reachable_*) and in total (Report.reachability), for the blocks live now.
#pragma once

#include <cstdint>
#include <vector>

#include "process_state.h"
#include "report.pb.h"

namespace leakscope::collector {

// `report_site`: per ProcessState site, its index in r->sites() (or
// Timeline::kNoSite). Does nothing when no scan was asked for.
void FillReachability(const ProcessState& state, const std::vector<uint32_t>& report_site,
                      report::Report* r);

}  // namespace leakscope::collector
