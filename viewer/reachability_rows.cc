#include "reachability_rows.h"

#include <algorithm>
#include <cstdio>

#include "human_units.h"

namespace leakscope::viewer {

std::vector<const SiteRow*> LostRows(const std::vector<SiteRow>& rows) {
  std::vector<const SiteRow*> out;
  for (const SiteRow& r : rows)
    if (r.definitely_lost_allocations + r.indirectly_lost_allocations > 0) out.push_back(&r);
  std::stable_sort(out.begin(), out.end(), [](const SiteRow* a, const SiteRow* b) {
    if (a->definitely_lost_bytes != b->definitely_lost_bytes)
      return a->definitely_lost_bytes > b->definitely_lost_bytes;
    return a->indirectly_lost_bytes > b->indirectly_lost_bytes;
  });
  return out;
}

void KeepLostOnly(std::vector<SiteRow>* rows) {
  for (SiteRow& r : *rows) {
    r.live_bytes = r.definitely_lost_bytes + r.indirectly_lost_bytes;
    r.live_allocations = r.definitely_lost_allocations + r.indirectly_lost_allocations;
  }
  std::stable_sort(rows->begin(), rows->end(),
                   [](const SiteRow& a, const SiteRow& b) { return a.live_bytes > b.live_bytes; });
}

std::string ReachabilityLine(const report::Report& report) {
  if (!report.has_reachability()) return "";
  const report::Reachability& r = report.reachability();
  if (!r.scanned()) return "Reachability: no scan: " + r.error();
  const auto part = [](const char* what, uint64_t bytes, uint64_t count) {
    return std::string(what) + " " + HumanBytes(bytes) + " in " + CountOf(count, "block", "blocks");
  };
  char pause[32];
  std::snprintf(pause, sizeof pause, "%.1f ms", double(r.pause_ns()) / 1e6);
  std::string line =
      "Reachability (" + std::string(r.at_exit() ? "at exit" : "while running") +
      ", process stopped " + pause +
      "): " + part("definitely lost", r.definitely_lost_bytes(), r.definitely_lost_allocations()) +
      ", " + part("indirectly lost", r.indirectly_lost_bytes(), r.indirectly_lost_allocations()) +
      ", " + part("possibly lost", r.possibly_lost_bytes(), r.possibly_lost_allocations()) + ", " +
      part("still reachable", r.reachable_bytes(), r.reachable_allocations());
  if (r.not_scanned_allocations() > 0)
    line +=
        "; " + part("allocated after the scan", r.not_scanned_bytes(), r.not_scanned_allocations());
  if (r.table_behind_ms() > 0)
    line += "; the live table may have been up to " + std::to_string(r.table_behind_ms()) +
            " ms behind the process";
  return line;
}

}  // namespace leakscope::viewer
