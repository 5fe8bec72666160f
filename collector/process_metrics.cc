#include "process_metrics.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace leakscope::collector {
namespace {

// "function:line", "function", or "module+0xoffset" when there is no symbol.
std::string FrameLabel(const SymbolizedFrame& f) {
  if (!f.function.empty()) return f.line ? f.function + ":" + std::to_string(f.line) : f.function;
  char offset[32];
  std::snprintf(offset, sizeof offset, "+0x%llx", static_cast<unsigned long long>(f.module_offset));
  return f.module.substr(f.module.rfind('/') == std::string::npos ? 0 : f.module.rfind('/') + 1) +
         offset;
}

std::string SiteLabel(const ProcessState& state, ProcessWatch* watch, size_t site) {
  const SymbolizedFrame* last = nullptr;
  for (uint64_t pc : state.site_pcs(site)) {
    for (const SymbolizedFrame& f : watch->Symbolize(state, pc ? pc - 1 : 0)) {
      if (!IsAllocatorFrame(f)) return FrameLabel(f);
      last = &f;
    }
  }
  return last ? FrameLabel(*last) : "unknown";
}

void Rates(const Timeline& t, ProcessMetrics* m) {
  const auto& points = t.points();
  if (points.size() < 2) return;
  const Timeline::Point &a = points[points.size() - 2], &b = points.back();
  const double seconds = static_cast<double>(b.time_ns - a.time_ns) / 1e9;
  if (seconds <= 0) return;
  m->allocations_per_second = static_cast<double>(b.allocations - a.allocations) / seconds;
  m->frees_per_second = static_cast<double>(b.frees - a.frees) / seconds;
}

// The largest sites; sites with the same label are summed (one series each).
std::vector<SiteMetric> TopSites(const ProcessState& state, ProcessWatch* watch, size_t n) {
  std::vector<std::pair<uint64_t, size_t>> sites;
  for (size_t s = 0; s < state.site_count(); ++s)
    if (uint64_t bytes = FromFixed(state.site(s).live_bytes_fp, kByteFracBits))
      sites.emplace_back(bytes, s);
  const size_t k = std::min(n, sites.size());
  std::partial_sort(sites.begin(), sites.begin() + k, sites.end(), std::greater<>());
  std::map<std::string, uint64_t> by_label;
  for (size_t i = 0; i < k; ++i)
    by_label[SiteLabel(state, watch, sites[i].second)] += sites[i].first;
  std::vector<SiteMetric> out;
  for (auto& [label, bytes] : by_label) out.push_back({label, bytes});
  std::stable_sort(out.begin(), out.end(), [](const SiteMetric& a, const SiteMetric& b) {
    return a.live_bytes > b.live_bytes;
  });
  return out;
}

}  // namespace

ProcessMetrics CollectMetrics(const ProcessState& state, ProcessWatch* watch, size_t top_sites) {
  ProcessMetrics m;
  m.pid = state.hello().pid();
  m.exe = state.hello().exe();
  const ProcessTotals& t = state.totals();
  m.live_bytes = FromFixed(t.live_bytes_fp, kByteFracBits);
  m.live_allocations = FromFixed(t.live_count_fp, kCountFracBits);
  m.allocations = FromFixed(t.allocated_count_fp, kCountFracBits);
  m.frees = FromFixed(t.freed_count_fp, kCountFracBits);
  m.dropped_events = state.stats().dropped_events;
  m.rss_bytes = state.stats().rss_bytes;
  Rates(watch->timeline(), &m);
  m.top_sites = TopSites(state, watch, top_sites);
  return m;
}

}  // namespace leakscope::collector
