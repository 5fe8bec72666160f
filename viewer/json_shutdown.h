// `report --json`'s "held_until_shutdown": what was live when exit began and
// freed during teardown, by site (see text_shutdown.cc).
#pragma once

#include <cstddef>

#include "json_writer.h"
#include "report.pb.h"
#include "site_table.h"

namespace leakscope::viewer {

// {"bytes", "allocations", "sites", "by_site": [{"bytes", "allocations",
// "call_site", "frames"}]}, by bytes, at most `top` rows (0: all). Not
// written at all when the report has no exit marker.
void WriteHeldUntilShutdown(const report::Report& report, const SiteTable& table, size_t top,
                            JsonWriter* w);

}  // namespace leakscope::viewer
