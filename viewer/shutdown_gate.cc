#include "shutdown_gate.h"

#include <vector>

#include "human_units.h"
#include "text_frames.h"

namespace leakscope::viewer {
namespace {

constexpr size_t kMaxListed = 10;  // as leak_gate.cc

std::string Bytes(uint64_t n) {
  return HumanBytes(n) + " (" + CountOf(n, "byte", "bytes") + ")";
}

uint64_t HeldBytes(const std::vector<const SiteRow*>& rows) {
  uint64_t n = 0;
  for (const SiteRow* r : rows) n += r->shutdown_freed_bytes;
  return n;
}

std::string Listed(const report::Report& report, const std::vector<const SiteRow*>& rows) {
  std::string out;
  for (size_t i = 0; i < rows.size() && i < kMaxListed; ++i) {
    const SiteRow& r = *rows[i];
    out += "    " + Bytes(r.shutdown_freed_bytes) + " in " +
           CountOf(r.shutdown_freed_allocations, "allocation", "allocations") +
           " held until shutdown";
    if (r.live_bytes > 0) out += " (and " + Bytes(r.live_bytes) + " leaked)";
    out += " at " + CallSiteText(report, r.frames, TextStyle(false)) + "\n";
  }
  if (rows.size() > kMaxListed)
    out += "    ... and " + CountOf(rows.size() - kMaxListed, "more site", "more sites") + "\n";
  return out;
}

}  // namespace

void CheckHeldUntilShutdown(const report::Report& report, const SiteTable& table,
                            const GateLimits& given, const GateLimits& effective, GateVerdict* v) {
  const std::vector<const SiteRow*> held = HeldUntilShutdown(report, table.program);
  const uint64_t held_bytes = HeldBytes(held);
  if (held_bytes == 0) return;
  const uint64_t leaked = LiveBytesOf(table.program);
  if (effective.max_leaked && leaked + held_bytes > *effective.max_leaked) {
    v->explanation += "  leaked and held until shutdown " + Bytes(leaked + held_bytes) +
                      ", over --max-leaked " + Bytes(*effective.max_leaked) +
                      " (--include-shutdown):\n" + Listed(report, held);
    v->pass = false;
  }
  if (effective.max_site_leaked) {
    std::vector<const SiteRow*> over;
    for (const SiteRow* r : held) {
      if (r->live_bytes + r->shutdown_freed_bytes > *effective.max_site_leaked) over.push_back(r);
    }
    if (!over.empty()) {
      v->explanation += "  " + CountOf(over.size(), "site", "sites") +
                        " leaked and held until shutdown more than --max-site-leaked " +
                        Bytes(*effective.max_site_leaked) + " (--include-shutdown):\n" +
                        Listed(report, over);
      v->pass = false;
    }
  }
  // Only a baseline was given: its growth limit says nothing about teardown.
  if (!given.max_leaked && !given.max_site_leaked && !effective.max_leaked) {
    v->explanation += "  held until shutdown " + Bytes(held_bytes) + " in " +
                      CountOf(held.size(), "site", "sites") +
                      " (--include-shutdown, no --max-leaked or --max-site-leaked):\n" +
                      Listed(report, held);
    v->pass = false;
  }
}

std::string HeldUntilShutdownLine(const report::Report& report, const SiteTable& table) {
  if (!report.process().exit_began())
    return "held until shutdown: not known (the process did not exit through exit() or a "
           "return from main)\n";
  const std::vector<const SiteRow*> held = HeldUntilShutdown(report, table.program);
  return "held until shutdown: " + Bytes(HeldBytes(held)) + " in " +
         CountOf(held.size(), "site", "sites") + "\n";
}

}  // namespace leakscope::viewer
