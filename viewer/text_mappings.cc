// "Mappings": anonymous memory the program mapped itself (mmap, mremap), by
// call site, apart from the heap sites: it is not malloc's, and a leak of it
// (a buffer mapped per request and never unmapped) shows here and in the
// Memory section's "program mappings", never among the heap sites.
#include <algorithm>
#include <vector>

#include "call_sites.h"
#include "human_units.h"
#include "text_frames.h"
#include "text_report.h"

namespace leakscope::viewer {

std::string RenderMappings(const report::Report& report, const TextOptions& options,
                           const TextStyle& style) {
  if (!report.has_mappings()) return "";
  const report::Mappings& m = report.mappings();
  std::vector<const report::MappingSite*> live;
  for (const report::MappingSite& s : m.sites())
    if (s.live_mappings() > 0) live.push_back(&s);
  const std::string title = style.Bold("Mappings by call site");
  const std::string calls = CountOf(m.mappings(), "mmap call", "mmap calls");
  if (live.empty()) return title + ": none live, the program's " + calls + " all unmapped.\n";
  const size_t shown = options.top == 0 ? live.size() : std::min(options.top, live.size());
  std::string out = title + " (" + std::to_string(shown) + " of " +
                    CountOf(live.size(), "site", "sites") + "): " + HumanBytes(m.live_bytes()) +
                    " in " + CountOf(m.live_mappings(), "mapping", "mappings") + " live, of " +
                    calls + ": anonymous memory the program mapped itself (not heap, never " +
                    "sampled)\n\n";
  for (size_t i = 0; i < shown; ++i) {
    const report::MappingSite& s = *live[i];
    const std::vector<uint32_t> frames(s.frames().begin(), s.frames().end());
    out += style.Bold("#" + std::to_string(i + 1)) + "  " + SiteIdOf(report, frames) + "  " +
           style.Size(HumanBytes(s.live_bytes()) + " mapped (" +
                      CountOf(s.live_bytes(), "byte", "bytes") + ")") +
           " in " + CountOf(s.live_mappings(), "mapping", "mappings") + "; " +
           HumanBytes(s.mapped_bytes()) + " mapped here in " +
           CountOf(s.mappings(), "call", "calls");
    if (s.inherited_live_bytes() > 0)
      out += "\n    inherited from the parent at fork: " + HumanBytes(s.inherited_live_bytes()) +
             " of these";
    out += "\n" + StackText(report, frames, options.max_frames, style) + "\n";
  }
  if (shown < live.size()) {
    uint64_t rest = 0;
    for (size_t i = shown; i < live.size(); ++i) rest += live[i]->live_bytes();
    out += "... " + CountOf(live.size() - shown, "more site", "more sites") + " holding " +
           HumanBytes(rest) + " (use --top N to see more)\n";
  }
  return out;
}

}  // namespace leakscope::viewer
