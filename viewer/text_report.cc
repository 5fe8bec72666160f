#include "text_report.h"

#include <utility>

#include "text_width.h"

namespace leakscope::viewer {

namespace {

// For a process still running, or killed (the OOM killer's SIGKILL), what
// grows matters more than what happened to be live at the last moment.
bool SuspectsFirst(const report::Process& p) {
  return p.end() == report::Process::RUNNING || p.end() == report::Process::SIGNALED ||
         p.end() == report::Process::DISCONNECTED;
}

}  // namespace

std::string RenderTextReport(const report::Report& report, const TextOptions& options) {
  const TextStyle style(options.color, options.full_names, options.width);
  const SiteTable table = BuildSiteTable(report, options.filter);
  std::string out = RenderProcessSummary(report, style);
  std::string surviving = RenderSurvivingSites(report, table, options, style);
  std::string suspects = RenderGrowthSuspects(report, table, options, style);
  if (SuspectsFirst(report.process())) std::swap(surviving, suspects);
  for (const std::string& section :
       {RenderDefinitelyLost(report, table, options, style), RenderMemory(report, style), surviving,
        suspects, RenderHeldUntilShutdown(report, table, options, style),
        RenderMappings(report, options, style), RenderRankings(report, table, options, style),
        RenderInternals(report, table, options, style)}) {
    if (section.empty()) continue;
    // Sections listing stacks already end with a blank line.
    if (out.size() < 2 || out.compare(out.size() - 2, 2, "\n\n") != 0) out += "\n";
    out += section;
  }
  // Rows fit already; this holds the limit for every other line.
  return FitLines(out, options.width);
}

}  // namespace leakscope::viewer
