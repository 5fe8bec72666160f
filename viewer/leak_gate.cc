#include "leak_gate.h"

#include <vector>

#include "human_units.h"
#include "reachability_rows.h"
#include "report_facts.h"
#include "shutdown_gate.h"
#include "site_diff.h"
#include "text_frames.h"

namespace leakscope::viewer {
namespace {

// Offending sites listed per broken limit; the rest are counted.
constexpr size_t kMaxListed = 10;

std::string Bytes(uint64_t n) {
  return HumanBytes(n) + " (" + CountOf(n, "byte", "bytes") + ")";
}

// The call site, as the report's rows name it, and its id (the /metrics
// series' site_id). Whole: a CI log is read wide.
std::string SiteName(const report::Report& report, const std::vector<uint32_t>& frames,
                     bool full_names) {
  return CallSiteText(report, frames, TextStyle(false, full_names)) + "  site " +
         SiteIdOf(report, frames);
}

struct Offence {
  std::string figure;
  std::string site;
};

std::string ListOffences(const std::vector<Offence>& offences) {
  std::string out;
  for (size_t i = 0; i < offences.size() && i < kMaxListed; ++i)
    out += "    " + offences[i].figure + " at " + offences[i].site + "\n";
  if (offences.size() > kMaxListed)
    out += "    ... and " + CountOf(offences.size() - kMaxListed, "more site", "more sites") + "\n";
  return out;
}

// Limits on the report alone.
void CheckAbsolute(const report::Report& report, const SiteTable& table, const GateLimits& limits,
                   GateVerdict* v) {
  const std::vector<const SiteRow*> leaks = Surviving(table.program);
  const uint64_t leaked = LiveBytesOf(table.program);
  if (limits.max_leaked && leaked > *limits.max_leaked) {
    std::vector<Offence> all;
    for (const SiteRow* r : leaks) {
      all.push_back({Bytes(r->live_bytes) + " in " +
                         CountOf(r->live_allocations, "allocation", "allocations"),
                     SiteName(report, r->frames, limits.full_names)});
    }
    v->explanation += "  leaked " + Bytes(leaked) + " in " +
                      CountOf(leaks.size(), "site", "sites") + ", over --max-leaked " +
                      Bytes(*limits.max_leaked) + ":\n" + ListOffences(all);
    v->pass = false;
  }
  if (limits.max_site_leaked) {
    std::vector<Offence> over;
    for (const SiteRow* r : leaks) {
      if (r->live_bytes > *limits.max_site_leaked)
        over.push_back({Bytes(r->live_bytes), SiteName(report, r->frames, limits.full_names)});
    }
    if (!over.empty()) {
      v->explanation += "  " + CountOf(over.size(), "site", "sites") + " over --max-site-leaked " +
                        Bytes(*limits.max_site_leaked) + ":\n" + ListOffences(over);
      v->pass = false;
    }
  }
}

// Limits on what changed since the baseline.
void CheckGrowth(const report::Report& report, const report::Report& baseline,
                 const GateLimits& limits, uint64_t max_growth, GateVerdict* v) {
  const std::vector<SiteChange> changes = DiffSites(baseline, report, limits.filter);
  int64_t total = 0;
  std::vector<Offence> grown;
  for (const SiteChange& c : changes) {
    total += c.GrowthBytes();
    if (c.GrowthBytes() > 0 && static_cast<uint64_t>(c.GrowthBytes()) > max_growth) {
      const std::string mark = c.kind == SiteChange::Kind::kNew ? " (new site)" : "";
      grown.push_back(
          {"+" + Bytes(static_cast<uint64_t>(c.GrowthBytes())) + mark,
           SiteName(c.frames_from_base ? baseline : report, c.frames, limits.full_names)});
    }
  }
  if (total > 0 && static_cast<uint64_t>(total) > max_growth) {
    v->explanation += "  leaked " + Bytes(static_cast<uint64_t>(total)) +
                      " more than the baseline, over --max-growth " + Bytes(max_growth) + "\n";
    v->pass = false;
  }
  if (!grown.empty()) {
    v->explanation += "  " + CountOf(grown.size(), "site", "sites") +
                      " grew by more than --max-growth " + Bytes(max_growth) + ":\n" +
                      ListOffences(grown);
    v->pass = false;
  }
}

}  // namespace

GateVerdict EvaluateGate(const report::Report& report, const report::Report* baseline,
                         const GateLimits& given) {
  GateLimits limits = given;
  if (!limits.max_leaked && !limits.max_site_leaked && baseline == nullptr) limits.max_leaked = 0;
  SiteTable table = BuildSiteTable(report, limits.filter);
  if (limits.lost_only) KeepLostOnly(&table.program);
  GateVerdict v;
  if (EndedByExec(report)) {
    v.explanation = "OK: this image was replaced by exec, which released the " +
                    Bytes(LiveBytesOf(table.program)) + " it held: nothing leaked\n";
    return v;
  }
  CheckAbsolute(report, table, limits, &v);
  if (baseline != nullptr)
    CheckGrowth(report, *baseline, limits, limits.max_growth.value_or(0), &v);
  if (limits.include_shutdown) CheckHeldUntilShutdown(report, table, given, limits, &v);
  const uint64_t leaked = LiveBytesOf(table.program);
  const std::string not_counted = "runtime internals (" + HumanBytes(LiveBytesOf(table.internals)) +
                                  ") and suppressed sites (" + HumanBytes(table.suppressed_bytes) +
                                  ") not counted";
  if (v.pass) {
    v.explanation = "OK: " + Bytes(leaked) + " leaked in " +
                    CountOf(Surviving(table.program).size(), "site", "sites") +
                    ", within budget; " + not_counted + "\n";
  } else {
    v.explanation = "FAIL: " + Bytes(leaked) + " leaked; " + not_counted + "\n" + v.explanation;
  }
  if (limits.include_shutdown) v.explanation += "  " + HeldUntilShutdownLine(report, table);
  return v;
}

}  // namespace leakscope::viewer
