#include "reachability_report.h"

#include <array>

namespace leakscope::collector {
namespace {

struct Tally {
  std::array<uint64_t, kVerdicts> bytes{}, count{};
};

void SetSite(const Tally& t, report::Site* s) {
  const auto i = [](Verdict v) { return size_t(v); };
  s->set_definitely_lost_bytes(t.bytes[i(Verdict::kDefinitelyLost)]);
  s->set_definitely_lost_allocations(t.count[i(Verdict::kDefinitelyLost)]);
  s->set_indirectly_lost_bytes(t.bytes[i(Verdict::kIndirectlyLost)]);
  s->set_indirectly_lost_allocations(t.count[i(Verdict::kIndirectlyLost)]);
  s->set_possibly_lost_bytes(t.bytes[i(Verdict::kPossiblyLost)]);
  s->set_possibly_lost_allocations(t.count[i(Verdict::kPossiblyLost)]);
  s->set_reachable_bytes(t.bytes[i(Verdict::kReachable)]);
  s->set_reachable_allocations(t.count[i(Verdict::kReachable)]);
}

}  // namespace

void FillReachability(const ProcessState& state, const std::vector<uint32_t>& report_site,
                      report::Report* r) {
  const ReachabilityScan* scan = state.reachability();
  if (!scan) return;
  report::Reachability* out = r->mutable_reachability();
  out->set_scanned(scan->ok);
  out->set_error(scan->error);
  out->set_at_exit(scan->at_exit);
  out->set_time_unix_ns(scan->time_unix_ns);
  if (!scan->ok) return;
  out->set_pause_ns(scan->pause_ns);
  out->set_threads(uint32_t(scan->threads));
  out->set_table_behind_ms(scan->table_behind_ms);
  out->set_blocks(scan->blocks);
  out->set_root_bytes(scan->counts.root_bytes);
  out->set_heap_bytes(scan->counts.heap_bytes);
  std::vector<Tally> sites(size_t(r->sites_size()));
  Tally total;
  uint64_t not_scanned_bytes = 0, not_scanned = 0;
  state.live_table().ForEach([&](uint64_t address, const LiveAllocation& a) {
    Verdict v;
    if (!scan->VerdictOf(address, a.seq, &v)) {
      not_scanned_bytes += a.size;
      ++not_scanned;
      return;
    }
    total.bytes[size_t(v)] += a.size;
    ++total.count[size_t(v)];
    const uint32_t s = a.site < report_site.size() ? report_site[a.site] : ~0u;
    if (s < sites.size()) {
      sites[s].bytes[size_t(v)] += a.size;
      ++sites[s].count[size_t(v)];
    }
  });
  for (size_t s = 0; s < sites.size(); ++s) SetSite(sites[s], r->mutable_sites(int(s)));
  report::Site totals;
  SetSite(total, &totals);
  out->set_definitely_lost_bytes(totals.definitely_lost_bytes());
  out->set_definitely_lost_allocations(totals.definitely_lost_allocations());
  out->set_indirectly_lost_bytes(totals.indirectly_lost_bytes());
  out->set_indirectly_lost_allocations(totals.indirectly_lost_allocations());
  out->set_possibly_lost_bytes(totals.possibly_lost_bytes());
  out->set_possibly_lost_allocations(totals.possibly_lost_allocations());
  out->set_reachable_bytes(totals.reachable_bytes());
  out->set_reachable_allocations(totals.reachable_allocations());
  out->set_not_scanned_bytes(not_scanned_bytes);
  out->set_not_scanned_allocations(not_scanned);
}

}  // namespace leakscope::collector
