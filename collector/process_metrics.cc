#include "process_metrics.h"

#include <algorithm>
#include <map>

#include "call_site.h"
#include "report_builder.h"

namespace leakscope::collector {
namespace {

// The site's call site (proto/call_site.h) as its label, and its id.
SiteMetric Site(const ProcessState& state, ProcessWatch* watch, size_t site) {
  const std::vector<SymbolizedFrame> frames =
      SiteFrames(state.site_pcs(site), [&](uint64_t pc) -> const std::vector<SymbolizedFrame>& {
        return watch->Symbolize(state, pc);
      });
  const std::vector<callsite::FrameRef> refs = Refs(frames);
  const int call = callsite::CallSiteIndex(refs);
  SiteMetric m;
  m.site = call < 0 ? "unknown" : callsite::Label(refs[static_cast<size_t>(call)]);
  m.site_id = callsite::SiteId(refs);
  return m;
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

// The largest sites (n at most, so at most n series); sites with the same
// id (stacks that differ only inside the library) are one series.
std::vector<SiteMetric> TopSites(const ProcessState& state, ProcessWatch* watch, size_t n) {
  std::vector<std::pair<uint64_t, size_t>> sites;
  for (size_t s = 0; s < state.site_count(); ++s)
    if (uint64_t bytes = FromFixed(state.site(s).live_bytes_fp, kByteFracBits))
      sites.emplace_back(bytes, s);
  const size_t k = std::min(n, sites.size());
  std::partial_sort(sites.begin(), sites.begin() + k, sites.end(), std::greater<>());
  std::vector<SiteMetric> out;
  std::map<std::string, size_t> by_id;
  for (size_t i = 0; i < k; ++i) {
    SiteMetric m = Site(state, watch, sites[i].second);
    auto [it, added] = by_id.emplace(m.site_id, out.size());
    if (added) out.push_back(std::move(m));
    out[it->second].live_bytes += sites[i].first;
    out[it->second].live_allocations +=
        FromFixed(state.site(sites[i].second).live_count_fp, kCountFracBits);
  }
  std::stable_sort(out.begin(), out.end(), [](const SiteMetric& a, const SiteMetric& b) {
    return a.live_bytes > b.live_bytes;
  });
  return out;
}

}  // namespace

std::string ServiceOf(const ProcessState& state, const ProcessWatch& watch,
                      const std::vector<Label>& daemon_labels) {
  for (const Label& l : MergeLabels(daemon_labels, watch.labels()))
    if (l.name == "service") return l.value;
  return ServiceName(state.hello().exe());
}

namespace {

// `service` given as a label names the service instead of the exe.
void Identity(const ProcessState& state, const ProcessWatch& watch,
              const std::vector<Label>& daemon_labels, ProcessMetrics* m) {
  m->pid = state.hello().pid();
  m->exe = state.hello().exe();
  m->service = ServiceName(m->exe);
  m->container = watch.container();
  for (Label& l : MergeLabels(daemon_labels, watch.labels())) {
    if (l.name == "service")
      m->service = std::move(l.value);
    else
      m->labels.push_back(std::move(l));
  }
  m->start_time_seconds = static_cast<double>(state.hello().start_time_unix_ns()) / 1e9;
  m->snapshots = watch.snapshots_written;
  m->last_snapshot_seconds = static_cast<double>(watch.last_snapshot_unix_ns) / 1e9;
}

}  // namespace

ProcessMetrics CollectMetrics(const ProcessState& state, ProcessWatch* watch, size_t top_sites,
                              const std::vector<Label>& daemon_labels) {
  ProcessMetrics m;
  Identity(state, *watch, daemon_labels, &m);
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
