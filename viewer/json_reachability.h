// `report --json` and a reachability scan: per site the four verdicts'
// figures, and "reachability" with the scan's totals and pause.
#pragma once

#include "json_writer.h"
#include "report.pb.h"
#include "site_table.h"

namespace leakscope::viewer {

// In a site object: definitely_lost_bytes ... reachable_allocations. Only
// when the report has a scan.
void WriteRowReachability(const report::Report& report, const SiteRow& row, JsonWriter* w);

// "reachability": {"scanned", "error" or "at_exit", "pause_ns", "threads",
// "table_behind_ms" (only when not 0: the scan could not catch up),
// "blocks", "root_bytes", "heap_bytes", the four verdicts' bytes and
// allocations, "not_scanned_*"}. Absent without a request for a scan.
void WriteReachability(const report::Report& report, JsonWriter* w);

}  // namespace leakscope::viewer
