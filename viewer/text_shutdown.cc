// "Held until shutdown": memory the program kept all its life and gave back
// only while exiting (a cache that never evicts, freed by a static
// destructor). Neither a leak nor growth, so no other section shows it.
#include <algorithm>
#include <vector>

#include "human_units.h"
#include "report_facts.h"
#include "text_frames.h"
#include "text_report.h"

namespace leakscope::viewer {

std::string RenderHeldUntilShutdown(const report::Report& report, const SiteTable& table,
                                    const TextOptions& options, const TextStyle& style) {
  const std::vector<const SiteRow*> held = HeldUntilShutdown(report, table.program);
  if (held.empty()) return "";
  const size_t shown = options.top == 0 ? held.size() : std::min(options.top, held.size());
  uint64_t bytes = 0, allocations = 0;
  for (const SiteRow* r : held) {
    bytes += r->shutdown_freed_bytes;
    allocations += r->shutdown_freed_allocations;
  }
  const std::string approx = SamplingInterval(report) > 1 ? "~" : "";  // sampled: estimates
  std::string out = style.Bold("Held until shutdown") + " (" + std::to_string(shown) + " of " +
                    CountOf(held.size(), "site", "sites") + "): " + approx + HumanBytes(bytes) +
                    " in " + approx + CountOf(allocations, "allocation", "allocations") +
                    " live when exit began, freed only during teardown (atexit handlers, "
                    "static destructors); not leaks, but never given back while running\n\n";
  for (size_t i = 0; i < shown; ++i) {
    const SiteRow& r = *held[i];
    out += style.Bold("#" + std::to_string(i + 1)) + "  " +
           style.Size(approx + HumanBytes(r.shutdown_freed_bytes) + " (" +
                      CountOf(r.shutdown_freed_bytes, "byte", "bytes") + ")") +
           " in " + approx + CountOf(r.shutdown_freed_allocations, "allocation", "allocations") +
           " at " + CallSiteText(report, r.frames, style) + "\n" +
           StackText(report, r.frames, options.max_frames, style) + "\n";
  }
  if (shown < held.size()) {
    uint64_t rest = 0;
    for (size_t i = shown; i < held.size(); ++i) rest += held[i]->shutdown_freed_bytes;
    out += "... " + CountOf(held.size() - shown, "more site", "more sites") + " holding " +
           HumanBytes(rest) + " (use --top N to see more)\n";
  }
  return out;
}

}  // namespace leakscope::viewer
