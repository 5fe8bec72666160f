// The sections after the leaks: growth suspects, rankings of the program's
// sites by peak, by allocation calls and by temporary allocations, and the
// runtime internals kept apart from the leaks.
#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_set>

#include "human_units.h"
#include "report_facts.h"
#include "text_frames.h"
#include "text_report.h"
#include "text_width.h"

namespace leakscope::viewer {
namespace {

size_t Shown(size_t top, size_t available) {
  return top == 0 ? available : std::min(top, available);
}

std::string Heading(const TextStyle& style, const std::string& title, size_t shown,
                    size_t available) {
  return style.Bold(title) + " (" + std::to_string(shown) + " of " +
         CountOf(available, "site", "sites") + "):\n";
}

// One line per row: rank, the figure the section is about, the call frame.
std::string Ranking(const report::Report& report, const std::vector<SiteRow>& rows,
                    const std::string& title, const std::function<uint64_t(const SiteRow&)>& key,
                    const std::function<std::string(const SiteRow&)>& figure,
                    const TextOptions& options, const TextStyle& style) {
  std::vector<const SiteRow*> ranked;
  for (const SiteRow& r : rows) {
    if (key(r) > 0) ranked.push_back(&r);
  }
  if (ranked.empty()) return "";
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](const SiteRow* a, const SiteRow* b) { return key(*a) > key(*b); });
  const size_t shown = Shown(options.top, ranked.size());
  std::string out = Heading(style, title, shown, ranked.size());
  const std::string approx = SamplingInterval(report) > 1 ? "~" : "";  // sampled: estimates
  for (size_t i = 0; i < shown; ++i) {
    const std::string lead = "  " + style.Bold("#" + std::to_string(i + 1)) + "  " +
                             SiteIdOf(report, ranked[i]->frames) + "  " +
                             style.Size(approx + figure(*ranked[i])) + "  ";
    const size_t used = VisibleWidth(lead);
    const size_t columns = style.width() > used ? style.width() - used : 0;
    out += lead + CallSiteText(report, ranked[i]->frames, style, columns) + "\n";
  }
  return out;
}

uint64_t PerHour(double bytes_per_hour) {
  if (!std::isfinite(bytes_per_hour) || bytes_per_hour <= 0) return 0;
  if (bytes_per_hour >= 1.8e19) return UINT64_MAX;
  return static_cast<uint64_t>(std::llround(bytes_per_hour));
}

int Percent(double confidence) {
  if (!std::isfinite(confidence)) return 0;
  return static_cast<int>(std::lround(std::clamp(confidence, 0.0, 1.0) * 100));
}

std::unordered_set<int> ProgramSites(const SiteTable& table) {
  std::unordered_set<int> out;
  for (const SiteRow& r : table.program) out.insert(r.sites.begin(), r.sites.end());
  return out;
}

}  // namespace

std::string RenderGrowthSuspects(const report::Report& report, const SiteTable& table,
                                 const TextOptions& options, const TextStyle& style) {
  const std::unordered_set<int> program = ProgramSites(table);
  std::vector<const report::GrowthSuspect*> suspects;
  for (const report::GrowthSuspect& g : report.growth_suspects()) {
    if (program.count(static_cast<int>(g.site())) > 0) suspects.push_back(&g);
  }
  if (suspects.empty()) return "";
  std::stable_sort(suspects.begin(), suspects.end(), [](const auto* a, const auto* b) {
    return PerHour(a->bytes_per_hour()) > PerHour(b->bytes_per_hour());
  });
  const size_t shown = Shown(options.top, suspects.size());
  std::string out = Heading(style, "Growth suspects", shown, suspects.size()) + "\n";
  const std::string approx = SamplingInterval(report) > 1 ? "~" : "";
  for (size_t i = 0; i < shown; ++i) {
    const report::GrowthSuspect& g = *suspects[i];
    const report::Site& site = report.sites(static_cast<int>(g.site()));
    const std::vector<uint32_t> frames(site.frames().begin(), site.frames().end());
    out += style.Bold("#" + std::to_string(i + 1)) + "  " + SiteIdOf(report, frames) + "  " +
           style.Size("+" + HumanBytes(PerHour(g.bytes_per_hour())) + "/hour") + " (confidence " +
           std::to_string(Percent(g.confidence())) + "%), " + approx +
           HumanBytes(site.live_bytes()) + " live at the end\n" +
           StackText(report, frames, options.max_frames, style) + "\n";
  }
  return out;
}

std::string RenderRankings(const report::Report& report, const SiteTable& table,
                           const TextOptions& options, const TextStyle& style) {
  const auto& rows = table.program;
  std::string out;
  // Each ranking, when it has rows, after a blank line.
  const auto add = [&out](const std::string& section) {
    if (!section.empty()) out += (out.empty() ? "" : "\n") + section;
  };
  add(Ranking(
      report, rows, "Peak memory consumers, live bytes per site at the process's peak",
      [](const SiteRow& r) { return r.peak_live_bytes; },
      [](const SiteRow& r) { return HumanBytes(r.peak_live_bytes); }, options, style));
  add(Ranking(
      report, rows, "Most allocations", [](const SiteRow& r) { return r.allocations; },
      [&report](const SiteRow& r) {
        const std::string approx = SamplingInterval(report) > 1 ? "~" : "";
        return CountOf(r.allocations, "call", "calls") + ", " + approx +
               HumanBytes(r.allocated_bytes);
      },
      options, style));
  if (!TemporariesCounted(report)) return out;
  add(Ranking(
      report, rows, "Temporary allocations, freed before their thread allocated again",
      [](const SiteRow& r) { return r.temporary_allocations; },
      [](const SiteRow& r) {
        return WithThousands(r.temporary_allocations) + " of " +
               CountOf(r.allocations, "call", "calls");
      },
      options, style));
  return out;
}

std::string RenderInternals(const report::Report& report, const SiteTable& table,
                            const TextOptions& options, const TextStyle& style) {
  const std::vector<const SiteRow*> surviving = Surviving(table.internals);
  if (surviving.empty()) return "";
  uint64_t bytes = 0, allocations = 0;
  for (const SiteRow* r : surviving) {
    bytes += r->live_bytes;
    allocations += r->live_allocations;
  }
  std::string out = style.Bold("Runtime internals") + ": " + HumanBytes(bytes) + " in " +
                    CountOf(allocations, "allocation", "allocations") + " at " +
                    CountOf(surviving.size(), "site", "sites") +
                    ", one-time allocations of the C/C++ runtime, not counted as leaks";
  if (!options.show_internals) return out + " (--show-internals lists them).\n";
  out += ":\n\n";
  for (size_t i = 0; i < surviving.size(); ++i) {
    const SiteRow& r = *surviving[i];
    out += style.Bold("#" + std::to_string(i + 1)) + "  " + SiteIdOf(report, r.frames) + "  " +
           HumanBytes(r.live_bytes) + " in " +
           CountOf(r.live_allocations, "allocation", "allocations") + "\n" +
           StackText(report, r.frames, options.max_frames, style) + "\n";
  }
  return out;
}

}  // namespace leakscope::viewer
