#include "timeline.h"

#include <algorithm>

namespace leakscope::collector {
namespace {

uint64_t LiveBytes(const ProcessState& state, uint32_t site) {
  return FromFixed(state.site(site).live_bytes_fp, kByteFracBits);
}

}  // namespace

Timeline::Timeline(uint64_t interval_ns, size_t max_points)
    : interval_ns_(std::max<uint64_t>(interval_ns, 1)),
      max_points_(std::max<size_t>(max_points, 4)) {
  slot_site_.fill(kNoSite);
  points_.reserve(max_points_);
}

void Timeline::Observe(const ProcessState& state, const wire::Message& m) {
  uint64_t now = 0;
  if (m.has_events()) now = std::max(now, m.events().time_ns());
  if (m.has_stats()) now = std::max(now, m.stats().time_ns());
  if (now == 0 || now < last_time_ns_) return;  // no clock in it, or out of order
  last_time_ns_ = now;
  if (points_.empty() || now >= points_.back().time_ns + interval_ns_) Sample(state, now);
}

void Timeline::Sample(const ProcessState& state, uint64_t time_ns) {
  last_time_ns_ = std::max(last_time_ns_, time_ns);
  ClaimSlots(state);
  if (points_.size() == max_points_) Halve();
  Point p;
  p.time_ns = time_ns;
  const ProcessTotals& t = state.totals();
  p.live_bytes = FromFixed(t.live_bytes_fp, kByteFracBits);
  p.allocations = FromFixed(t.allocated_count_fp, kCountFracBits);
  p.frees = FromFixed(t.freed_count_fp, kCountFracBits);
  p.rss_bytes = state.stats().rss_bytes;
  if (const ProcessStats& st = state.stats(); st.has_memory) {
    p.memory_known = true;
    p.allocator_in_use_bytes = st.memory.allocator_in_use_bytes();
    p.allocator_free_bytes = st.memory.allocator_free_bytes();
    p.allocator_mapped_bytes = st.memory.allocator_mapped_bytes();
    p.anonymous_bytes = st.memory.anonymous_bytes();
    p.stack_bytes = st.memory.stack_bytes();
    p.file_bytes = st.memory.file_bytes();
  }
  for (size_t i = 0; i < kTrackedSites; ++i)
    p.site_bytes[i] = slot_site_[i] == kNoSite ? kUnknown : LiveBytes(state, slot_site_[i]);
  points_.push_back(p);
}

// The kTrackedSites largest sites now get a slot: a free one, or the one of
// the smallest tracked site if that is smaller. O(sites) per sample, i.e.
// every interval, not per event.
void Timeline::ClaimSlots(const ProcessState& state) {
  std::vector<std::pair<uint64_t, uint32_t>> top;  // (live bytes, site)
  for (size_t s = 0; s < state.site_count(); ++s) {
    uint64_t bytes = LiveBytes(state, static_cast<uint32_t>(s));
    if (bytes > 0) top.emplace_back(bytes, static_cast<uint32_t>(s));
  }
  const size_t k = std::min(top.size(), kTrackedSites);
  std::partial_sort(top.begin(), top.begin() + k, top.end(), std::greater<>());
  for (size_t i = 0; i < k; ++i) {
    const uint32_t site = top[i].second;
    if (std::find(slot_site_.begin(), slot_site_.end(), site) != slot_site_.end()) continue;
    size_t victim = kTrackedSites;
    uint64_t victim_bytes = top[i].first;
    for (size_t j = 0; j < kTrackedSites; ++j) {
      const uint64_t bytes = slot_site_[j] == kNoSite ? 0 : LiveBytes(state, slot_site_[j]);
      if (slot_site_[j] == kNoSite || bytes < victim_bytes) {
        victim = j;
        victim_bytes = bytes;
        if (slot_site_[j] == kNoSite) break;
      }
    }
    if (victim == kTrackedSites) continue;
    slot_site_[victim] = site;
    for (Point& p : points_) p.site_bytes[victim] = kUnknown;  // another site's history
  }
}

// Keeps every second point (the later of each pair: a real sample of the
// gauges at its time, and the counters stay cumulative), doubling the interval.
void Timeline::Halve() {
  size_t out = 0;
  for (size_t i = 1; i < points_.size(); i += 2) points_[out++] = points_[i];
  points_.resize(out);
  interval_ns_ *= 2;
}

}  // namespace leakscope::collector
