#include "text_report.h"

namespace leakscope::viewer {

std::string RenderTextReport(const report::Report& report, const TextOptions& options) {
  const TextStyle style(options.color);
  const SiteTable table = BuildSiteTable(report, options.filter);
  std::string out = RenderProcessSummary(report, style);
  for (const std::string& section : {RenderSurvivingSites(report, table, options, style),
                                     RenderGrowthSuspects(report, table, options, style),
                                     RenderRankings(report, table, options, style),
                                     RenderInternals(report, table, options, style)}) {
    if (section.empty()) continue;
    // Sections listing stacks already end with a blank line.
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\n\n") != 0) out += "\n";
    out += section;
  }
  return out;
}

}  // namespace leakscope::viewer
