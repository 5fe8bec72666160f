// "Surviving allocations by call site": where the memory still held at the
// end was allocated, biggest first, each with its stack.
#include <algorithm>
#include <vector>

#include "human_units.h"
#include "report_facts.h"
#include "text_frames.h"
#include "text_report.h"

namespace leakscope::viewer {
namespace {

std::string LiveFigure(const report::Report& report, const SiteRow& s) {
  const bool sampled = SamplingInterval(report) > 1;
  std::string out = (sampled ? "~" : "") + HumanBytes(s.live_bytes) + " live (" +
                    CountOf(s.live_bytes, "byte", "bytes");
  if (sampled) {
    out += ", 95% CI " + HumanBytes(s.live_bytes_ci_low) + " to " +
           HumanBytes(s.live_bytes_ci_high) + ", " + CountOf(s.live_samples, "sample", "samples");
  }
  return out + ")";
}

std::string SiteBlock(const report::Report& report, const SiteRow& s, size_t rank,
                      const TextOptions& options, const TextStyle& style) {
  const char* approx = SamplingInterval(report) > 1 ? "~" : "";
  std::string out = style.Bold("#" + std::to_string(rank)) + "  " + SiteIdOf(report, s.frames) +
                    "  " + style.Size(LiveFigure(report, s)) + " in " + approx +
                    CountOf(s.live_allocations, "allocation", "allocations") + "; " + approx +
                    HumanBytes(s.allocated_bytes) + " allocated here in " + approx +
                    CountOf(s.allocations, "call", "calls");
  if (s.sites.size() > 1) out += " (" + CountOf(s.sites.size(), "stack", "stacks") + ")";
  if (s.inherited_live_allocations > 0)
    out += std::string("\n    inherited from the parent at fork: ") + approx +
           CountOf(s.inherited_live_allocations, "allocation", "allocations") + " (" + approx +
           HumanBytes(s.inherited_live_bytes) + ") of these";
  return out + "\n" + StackText(report, s.frames, options.max_frames, style);
}

const char* GroupWord(GroupBy by) {
  switch (by) {
    case GroupBy::kFunction:
      return "function";
    case GroupBy::kFile:
      return "source file";
    case GroupBy::kModule:
      return "module";
    default:
      return "call site";
  }
}

std::string Suppressed(const SiteTable& table) {
  if (table.suppressed_sites == 0) return "";
  return CountOf(table.suppressed_sites, "site", "sites") + " holding " +
         HumanBytes(table.suppressed_bytes) + " suppressed (--suppressions).\n";
}

}  // namespace

std::string RenderSurvivingSites(const report::Report& report, const SiteTable& table,
                                 const TextOptions& options, const TextStyle& style) {
  const std::vector<const SiteRow*> surviving = Surviving(table.program);
  // A forked child that execs would otherwise show its parent's whole heap.
  const bool exec = EndedByExec(report);
  const std::string title =
      style.Bold(std::string(exec ? "Held when exec replaced this image (released by the "
                                    "kernel, not leaked), by "
                                  : "Surviving allocations by ") +
                 GroupWord(options.filter.by));
  if (surviving.empty())
    return title + ": none, every recorded allocation was freed.\n" + Suppressed(table);
  const size_t shown =
      options.top == 0 ? surviving.size() : std::min(options.top, surviving.size());
  std::string out = title + " (" + std::to_string(shown) + " of " +
                    CountOf(surviving.size(), "site", "sites") + "):\n\n";
  uint64_t shown_bytes = 0, surviving_bytes = 0;
  for (const SiteRow* row : surviving) surviving_bytes += row->live_bytes;
  for (size_t rank = 0; rank < shown; ++rank) {
    shown_bytes += surviving[rank]->live_bytes;
    out += SiteBlock(report, *surviving[rank], rank + 1, options, style) + "\n";
  }
  if (shown < surviving.size()) {
    out += "... " + CountOf(surviving.size() - shown, "more site", "more sites") + " holding " +
           HumanBytes(surviving_bytes - shown_bytes) + " (use --top N to see more)\n";
  }
  return out + Suppressed(table);
}

}  // namespace leakscope::viewer
