// "Definitely lost": with a reachability scan, the sites whose blocks nothing
// points to any more (and what only those blocks held, indirectly lost),
// first: what LeakSanitizer and memcheck call leaks. Survivors that are
// still reachable (a singleton, a cache) stay in the sections below.
#include <algorithm>
#include <vector>

#include "human_units.h"
#include "reachability_rows.h"
#include "text_frames.h"
#include "text_report.h"

namespace leakscope::viewer {
namespace {

std::string Figure(uint64_t bytes, uint64_t count, const char* what) {
  return HumanBytes(bytes) + " in " + CountOf(count, "block", "blocks") + " " + what;
}

}  // namespace

std::string RenderDefinitelyLost(const report::Report& report, const SiteTable& table,
                                 const TextOptions& options, const TextStyle& style) {
  const std::string line = ReachabilityLine(report);
  if (line.empty()) return "";
  std::string out = line + "\n";
  if (!report.reachability().scanned()) return out;
  const std::vector<const SiteRow*> lost = LostRows(table.program);
  if (lost.empty()) return out + "\nNo block is lost: every survivor is still reachable.\n";
  const size_t shown = options.top == 0 ? lost.size() : std::min(options.top, lost.size());
  out += "\n" + style.Bold("Definitely lost") + " (" + std::to_string(shown) + " of " +
         CountOf(lost.size(), "site", "sites") +
         "): blocks nothing points to, and the blocks only they point to (indirectly lost)\n\n";
  for (size_t i = 0; i < shown; ++i) {
    const SiteRow& r = *lost[i];
    std::string figures;
    if (r.definitely_lost_allocations > 0)
      figures = Figure(r.definitely_lost_bytes, r.definitely_lost_allocations, "definitely lost");
    if (r.indirectly_lost_allocations > 0)
      figures += (figures.empty() ? "" : ", ") +
                 Figure(r.indirectly_lost_bytes, r.indirectly_lost_allocations, "indirectly lost");
    out += style.Bold("#" + std::to_string(i + 1)) + "  " + style.Size(figures) + " at " +
           CallSiteText(report, r.frames, style) + "\n" +
           StackText(report, r.frames, options.max_frames, style) + "\n";
  }
  if (shown < lost.size())
    out += "... " + CountOf(lost.size() - shown, "more site", "more sites") +
           " (use --top N to see more)\n";
  return out;
}

}  // namespace leakscope::viewer
