// "Surviving allocations by call site": where the memory still held at the
// end was allocated, biggest first, each with its stack.
#include <algorithm>
#include <vector>

#include "human_units.h"
#include "report_facts.h"
#include "text_report.h"

namespace leakscope::viewer {
namespace {

// The symbolizer's fallback name "libfoo.so+0x1234" already names the module.
bool NamesItsModule(const report::Frame& f) {
  const std::string prefix = Basename(f.module()) + "+0x";
  return f.function().compare(0, prefix.size(), prefix) == 0;
}

std::string FrameLine(const report::Frame& f, const TextStyle& style) {
  std::string out = "    " + (f.function().empty() ? std::string("??") : Printable(f.function()));
  if (!f.file().empty()) {
    std::string where = Printable(f.file());
    if (f.line() != 0) where += ":" + std::to_string(f.line());
    out += "  " + style.Dim(where);
  }
  if (!f.module().empty() && !NamesItsModule(f))
    out += "  " + style.Dim("(" + Printable(Basename(f.module())) + ")");
  if (f.inlined()) out += "  [inlined]";
  return out + "\n";
}

std::string Frames(const report::Report& report, const report::Site& site, size_t max_frames,
                   const TextStyle& style) {
  std::string out;
  const size_t n = static_cast<size_t>(site.frames_size());
  for (size_t i = 0; i < n && i < max_frames; ++i) {
    out += FrameLine(FrameAt(report, site.frames(static_cast<int>(i))), style);
  }
  if (n > max_frames)
    out += "    ... " + CountOf(n - max_frames, "more frame", "more frames") + "\n";
  if (n == 0) out += "    (no stack)\n";
  return out;
}

std::string LiveFigure(const report::Report& report, const report::Site& s) {
  const bool sampled = SamplingInterval(report) > 1;
  std::string out = (sampled ? "~" : "") + HumanBytes(s.live_bytes()) + " live (" +
                    CountOf(s.live_bytes(), "byte", "bytes");
  if (sampled) {
    out += ", 95% CI " + HumanBytes(s.live_bytes_ci_low()) + " to " +
           HumanBytes(s.live_bytes_ci_high()) + ", " +
           CountOf(s.live_samples(), "sample", "samples");
  }
  return out + ")";
}

std::string SiteBlock(const report::Report& report, const report::Site& s, size_t rank,
                      const TextOptions& options, const TextStyle& style) {
  const char* approx = SamplingInterval(report) > 1 ? "~" : "";
  std::string out = style.Bold("#" + std::to_string(rank)) + "  " +
                    style.Size(LiveFigure(report, s)) + " in " + approx +
                    CountOf(s.live_allocations(), "allocation", "allocations") + "; " + approx +
                    HumanBytes(s.allocated_bytes()) + " allocated here in " + approx +
                    CountOf(s.allocations(), "call", "calls") + "\n";
  return out + Frames(report, s, options.max_frames, style);
}

bool Survives(const report::Site& s) {
  return s.live_bytes() > 0 || s.live_allocations() > 0;
}

}  // namespace

std::string RenderSurvivingSites(const report::Report& report, const TextOptions& options,
                                 const TextStyle& style) {
  std::vector<int> surviving;
  uint64_t surviving_bytes = 0;
  for (int i : SitesByLiveBytes(report, 0)) {
    if (!Survives(report.sites(i))) continue;
    surviving.push_back(i);
    surviving_bytes += report.sites(i).live_bytes();
  }
  const std::string title = style.Bold("Surviving allocations by call site");
  if (surviving.empty()) return title + ": none, every recorded allocation was freed.\n";
  const size_t shown =
      options.top == 0 ? surviving.size() : std::min(options.top, surviving.size());
  std::string out = title + " (" + std::to_string(shown) + " of " +
                    CountOf(surviving.size(), "site", "sites") + "):\n\n";
  uint64_t shown_bytes = 0;
  for (size_t rank = 0; rank < shown; ++rank) {
    const report::Site& s = report.sites(surviving[rank]);
    shown_bytes += s.live_bytes();
    out += SiteBlock(report, s, rank + 1, options, style) + "\n";
  }
  if (shown < surviving.size()) {
    out += "... " + CountOf(surviving.size() - shown, "more site", "more sites") + " holding " +
           HumanBytes(surviving_bytes - shown_bytes) + " (use --top N to see more)\n";
  }
  return out;
}

}  // namespace leakscope::viewer
