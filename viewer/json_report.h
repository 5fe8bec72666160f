// `leakscope report --json` (and `export --format json`): the report as
// JSON, for scripts and CI.
#pragma once

#include <cstddef>
#include <string>

#include "json_writer.h"
#include "report.pb.h"
#include "site_table.h"

namespace leakscope::viewer {

struct JsonOptions {
  size_t top = 0;  // rows per section, 0 = all
  SiteFilter filter;
};

// "sites": every site holding or having allocated memory (the program's and
// the runtime internals, each marked "internal"), by live bytes, as before
// sections were added; then "leaks" (summary), "internals", "growth_suspects",
// "held_until_shutdown" (when exit began: json_shutdown.h),
// and the rankings "peak_consumers", "most_allocations", "temporary_allocations"
// (figures and the program's "call_site" frame), and "timeline".
std::string RenderJsonReport(const report::Report& report, const JsonOptions& options);

// One frame object: function, file, line, module, inlined.
void WriteFrameJson(const report::Frame& frame, JsonWriter* w);

// All sites, no filter.
std::string RenderJsonReport(const report::Report& report, size_t top);

}  // namespace leakscope::viewer
