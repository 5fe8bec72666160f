// "held_until_shutdown" in `report --json`: see text_shutdown.cc.
#include "json_shutdown.h"

#include "json_report.h"
#include "report_facts.h"

namespace leakscope::viewer {

void WriteHeldUntilShutdown(const report::Report& report, const SiteTable& table, size_t top,
                            JsonWriter* w) {
  // Absent, not empty, when exit never began (_exit, a crash, a running
  // process): nothing was torn down, so nothing can be said.
  if (!report.process().exit_began()) return;
  std::vector<const SiteRow*> held = HeldUntilShutdown(report, table.program);
  uint64_t bytes = 0, allocations = 0;
  for (const SiteRow* r : held) {
    bytes += r->shutdown_freed_bytes;
    allocations += r->shutdown_freed_allocations;
  }
  const size_t sites = held.size();
  if (top != 0 && held.size() > top) held.resize(top);
  w->Key("held_until_shutdown");
  w->BeginObject();
  w->Field("bytes", bytes);
  w->Field("allocations", allocations);
  w->Field("sites", uint64_t{sites});
  w->Key("by_site");
  w->BeginArray();
  for (const SiteRow* r : held) {
    w->BeginObject();
    w->Field("bytes", r->shutdown_freed_bytes);
    w->Field("allocations", r->shutdown_freed_allocations);
    const int call = CallFrame(report, r->frames);
    if (call >= 0) {
      w->Key("call_site");
      WriteFrameJson(FrameAt(report, r->frames[static_cast<size_t>(call)]), w);
    }
    w->Key("frames");
    w->BeginArray();
    for (uint32_t index : r->frames) WriteFrameJson(FrameAt(report, index), w);
    w->EndArray();
    w->EndObject();
  }
  w->EndArray();
  w->EndObject();
}

}  // namespace leakscope::viewer
