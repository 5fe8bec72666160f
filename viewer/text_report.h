// `leakscope report FILE`: the report as text for a person at a terminal.
// Each section is its own function (text_*.cc), each limited by --top.
#pragma once

#include <cstddef>
#include <string>

#include "report.pb.h"
#include "site_table.h"
#include "text_style.h"

namespace leakscope::viewer {

struct TextOptions {
  size_t top = 20;        // rows per section; 0 = all
  size_t max_frames = 8;  // frames shown per site
  bool color = false;
  bool show_internals = false;  // list the runtime internals instead of one summary line
  bool full_names = false;      // template arguments in full (--full-names)
  size_t width = 0;             // columns per line (text_width.h); 0: no limit
  SiteFilter filter;
};

std::string RenderTextReport(const report::Report& report, const TextOptions& options);

// Sections, in the order RenderTextReport prints them. A section with
// nothing to show (no growth suspects, no temporary allocations) is "".
std::string RenderProcessSummary(const report::Report& report, const TextStyle& style);
// What the RSS is made of (text_memory.cc); "" without report.Memory.
std::string RenderMemory(const report::Report& report, const TextStyle& style);
std::string RenderSurvivingSites(const report::Report& report, const SiteTable& table,
                                 const TextOptions& options, const TextStyle& style);
std::string RenderGrowthSuspects(const report::Report& report, const SiteTable& table,
                                 const TextOptions& options, const TextStyle& style);
// Live when exit began and freed during teardown (text_shutdown.cc).
std::string RenderHeldUntilShutdown(const report::Report& report, const SiteTable& table,
                                    const TextOptions& options, const TextStyle& style);
// With a reachability scan: its line and the "Definitely lost" sites (text_reachability.cc).
std::string RenderDefinitelyLost(const report::Report& report, const SiteTable& table,
                                 const TextOptions& options, const TextStyle& style);
// The program's own anonymous mappings by call site (text_mappings.cc); ""
// if the report has none.
std::string RenderMappings(const report::Report& report, const TextOptions& options,
                           const TextStyle& style);
std::string RenderRankings(const report::Report& report, const SiteTable& table,
                           const TextOptions& options, const TextStyle& style);
std::string RenderInternals(const report::Report& report, const SiteTable& table,
                            const TextOptions& options, const TextStyle& style);

}  // namespace leakscope::viewer
