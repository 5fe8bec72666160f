#include "json_reachability.h"

namespace leakscope::viewer {

void WriteRowReachability(const report::Report& report, const SiteRow& r, JsonWriter* w) {
  if (!report.reachability().scanned()) return;
  w->Field("definitely_lost_bytes", r.definitely_lost_bytes);
  w->Field("definitely_lost_allocations", r.definitely_lost_allocations);
  w->Field("indirectly_lost_bytes", r.indirectly_lost_bytes);
  w->Field("indirectly_lost_allocations", r.indirectly_lost_allocations);
  w->Field("possibly_lost_bytes", r.possibly_lost_bytes);
  w->Field("possibly_lost_allocations", r.possibly_lost_allocations);
  w->Field("reachable_bytes", r.reachable_bytes);
  w->Field("reachable_allocations", r.reachable_allocations);
}

void WriteReachability(const report::Report& report, JsonWriter* w) {
  if (!report.has_reachability()) return;
  const report::Reachability& r = report.reachability();
  w->Key("reachability");
  w->BeginObject();
  w->Field("scanned", r.scanned());
  if (!r.scanned()) {
    w->Field("error", r.error());
    w->EndObject();
    return;
  }
  w->Field("at_exit", r.at_exit());
  w->Field("pause_ns", r.pause_ns());
  w->Field("threads", r.threads());
  if (r.table_behind_ms() > 0) w->Field("table_behind_ms", r.table_behind_ms());
  w->Field("blocks", r.blocks());
  w->Field("root_bytes", r.root_bytes());
  w->Field("heap_bytes", r.heap_bytes());
  w->Field("definitely_lost_bytes", r.definitely_lost_bytes());
  w->Field("definitely_lost_allocations", r.definitely_lost_allocations());
  w->Field("indirectly_lost_bytes", r.indirectly_lost_bytes());
  w->Field("indirectly_lost_allocations", r.indirectly_lost_allocations());
  w->Field("possibly_lost_bytes", r.possibly_lost_bytes());
  w->Field("possibly_lost_allocations", r.possibly_lost_allocations());
  w->Field("reachable_bytes", r.reachable_bytes());
  w->Field("reachable_allocations", r.reachable_allocations());
  w->Field("not_scanned_bytes", r.not_scanned_bytes());
  w->Field("not_scanned_allocations", r.not_scanned_allocations());
  w->EndObject();
}

}  // namespace leakscope::viewer
