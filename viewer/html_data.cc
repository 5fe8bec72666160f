// The data behind the HTML page: summary lines, the flame graph's tree of
// surviving bytes, the sections as table rows, the timeline.
#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>
#include <unordered_map>
#include <unordered_set>

#include "html_report.h"
#include "human_units.h"
#include "integrity.h"
#include "json_writer.h"
#include "reachability_rows.h"
#include "report_facts.h"
#include "text_frames.h"

namespace leakscope::viewer {
namespace {

// A node of the flame graph: a frame name under its caller.
struct FlameNode {
  uint64_t value = 0;
  std::map<std::string, std::unique_ptr<FlameNode>> children;
};

std::string FrameName(const report::Frame& f) {
  return f.function().empty() ? "??" : f.function();
}

// The program's surviving sites, outermost frame first from the root.
FlameNode BuildFlame(const report::Report& report, const SiteTable& table) {
  FlameNode root;
  for (const SiteRow* row : Surviving(table.program)) {
    root.value += row->live_bytes;
    FlameNode* node = &root;
    for (auto it = row->frames.rbegin(); it != row->frames.rend(); ++it) {
      auto& child = node->children[FrameName(FrameAt(report, *it))];
      if (!child) child = std::make_unique<FlameNode>();
      child->value += row->live_bytes;
      node = child.get();
    }
  }
  return root;
}

void WriteFlame(const std::string& name, const FlameNode& node, JsonWriter* w) {
  w->BeginObject();
  w->Field("name", name);
  w->Field("value", node.value);
  if (!node.children.empty()) {
    w->Key("children");
    w->BeginArray();
    for (const auto& [child_name, child] : node.children) WriteFlame(child_name, *child, w);
    w->EndArray();
  }
  w->EndObject();
}

void WriteSummary(const report::Report& report, const SiteTable& table, JsonWriter* w) {
  const report::Process& p = report.process();
  const report::Totals& t = report.totals();
  std::vector<std::pair<std::string, std::string>> lines = {
      {"Command", DisplayCommandLine({p.argv().begin(), p.argv().end()})},
      {"Process", "pid " + std::to_string(p.pid()) + ", ended: " + EndWord(p.end())},
      {"Peak live", HumanBytes(t.peak_live_bytes())},
      {"Live at end", HumanBytes(t.live_bytes()) + " in " +
                          CountOf(t.live_allocations(), "allocation", "allocations")},
      {"Leaked", EndedByExec(report)
                     ? "nothing: exec replaced this image, which released the " +
                           HumanBytes(LiveBytesOf(table.program)) + " it held"
                     : HumanBytes(LiveBytesOf(table.program)) + " (" +
                           WithThousands(LiveBytesOf(table.program)) + " bytes) in " +
                           CountOf(Surviving(table.program).size(), "site", "sites")},
      {"Runtime internals", HumanBytes(LiveBytesOf(table.internals)) + ", not counted as leaks"},
      {"Sampling", SamplingInterval(report) <= 1
                       ? std::string("every allocation")
                       : "one sample per " + HumanBytes(SamplingInterval(report))},
      {"Integrity", IntegritySummary(IntegrityOf(report))}};
  if (p.end() == report::Process::EXITED)
    lines[1].second += " with status " + std::to_string(p.exit_status());
  // The scan's totals and pause (or why none), as the text's first line says them.
  const std::string scan = ReachabilityLine(report);
  if (!scan.empty()) {  // "Reachability (at exit, ...): ..." or "Reachability: no scan: ..."
    const size_t start = scan.find_first_not_of(": ", std::string("Reachability").size());
    lines.emplace_back("Reachability", scan.substr(start));
  }
  w->Key("summary");
  w->BeginArray();
  for (const auto& [label, value] : lines) {
    w->BeginArray();
    w->String(label);
    w->String(value);
    w->EndArray();
  }
  w->EndArray();
}

// The page marks the Integrity line when something was lost.
void WriteIntegrityFlags(const report::Report& report, JsonWriter* w) {
  const Integrity i = IntegrityOf(report);
  w->Key("integrity");
  w->BeginObject();
  w->Field("complete", i.Complete());
  w->Field("nothing_lost", i.NothingLost());
  w->EndObject();
}

struct Column {
  const char* title;
  const char* kind;  // "bytes", "count" or "" (text), "where"
  std::function<void(const SiteRow&, JsonWriter*)> value;
};

void WriteTable(const report::Report& report, const char* id, const std::vector<Column>& columns,
                std::vector<const SiteRow*> rows, JsonWriter* w, const char* note = nullptr) {
  w->BeginObject();
  w->Field("id", id);
  if (note != nullptr) w->Field("note", note);  // shown instead of the rows
  w->Key("columns");
  w->BeginArray();
  for (const Column& c : columns) {
    w->BeginObject();
    w->Field("title", c.title);
    if (std::string(c.kind) == "bytes") w->Field("bytes", true);
    if (std::string(c.kind) == "count") w->Field("count", true);
    if (std::string(c.kind) == "where") w->Field("where", true);
    w->EndObject();
  }
  w->EndArray();
  w->Key("rows");
  w->BeginArray();
  for (const SiteRow* r : rows) {
    w->BeginArray();
    for (const Column& c : columns) c.value(*r, w);
    w->EndArray();
  }
  w->EndArray();
  w->EndObject();
  (void)report;
}

std::vector<const SiteRow*> Ranked(const std::vector<SiteRow>& rows,
                                   uint64_t (*key)(const SiteRow&)) {
  std::vector<const SiteRow*> out;
  for (const SiteRow& r : rows) {
    if (key(r) > 0) out.push_back(&r);
  }
  std::stable_sort(out.begin(), out.end(),
                   [&](const SiteRow* a, const SiteRow* b) { return key(*a) > key(*b); });
  if (out.size() > 1000) out.resize(1000);  // a page, not a database
  return out;
}

// Growth suspects point at report sites: one row per suspect among the
// program's sites, with its rate and confidence beside the usual columns.
void WriteGrowthTable(const report::Report& report, const SiteTable& table, const Column& call_site,
                      const Column& source, JsonWriter* w) {
  std::unordered_set<int> program;
  for (const SiteRow& r : table.program) program.insert(r.sites.begin(), r.sites.end());
  std::vector<SiteRow> rows;
  std::unordered_map<const SiteRow*, const report::GrowthSuspect*> suspect_of;
  for (const report::GrowthSuspect& g : report.growth_suspects()) {
    if (program.count(static_cast<int>(g.site())) == 0) continue;
    const report::Site& s = report.sites(static_cast<int>(g.site()));
    rows.emplace_back();
    rows.back().frames.assign(s.frames().begin(), s.frames().end());
    rows.back().live_bytes = s.live_bytes();
  }
  std::vector<const SiteRow*> pointers;
  size_t i = 0;
  for (const report::GrowthSuspect& g : report.growth_suspects()) {
    if (program.count(static_cast<int>(g.site())) == 0) continue;
    suspect_of[&rows[i]] = &g;
    pointers.push_back(&rows[i++]);
  }
  const Column rate{
      "Growth per hour", "bytes", [&](const SiteRow& r, JsonWriter* o) {
        const double v = suspect_of.at(&r)->bytes_per_hour();
        o->Uint(std::isfinite(v) && v > 0 && v < 1.8e19 ? static_cast<uint64_t>(v) : 0);
      }};
  const Column confidence{
      "Confidence %", "count", [&](const SiteRow& r, JsonWriter* o) {
        const double c = suspect_of.at(&r)->confidence();
        o->Uint(std::isfinite(c) ? static_cast<uint64_t>(std::lround(std::clamp(c, 0.0, 1.0) * 100))
                                 : 0);
      }};
  const Column live{"Live", "bytes",
                    [](const SiteRow& r, JsonWriter* o) { o->Uint(r.live_bytes); }};
  WriteTable(report, "growth", {call_site, source, rate, confidence, live}, pointers, w);
}

// Live when exit began, freed during teardown; a note instead when the
// process never began to exit (_exit, a crash: nothing was torn down).
void WriteShutdownTable(const report::Report& report, const SiteTable& table,
                        const Column& call_site, const Column& source, JsonWriter* w) {
  if (!report.process().exit_began()) {
    WriteTable(report, "shutdown", {}, {}, w,
               "Not known: the process did not exit through exit() or a return from main.");
    return;
  }
  const Column held{"Held", "bytes",
                    [](const SiteRow& r, JsonWriter* o) { o->Uint(r.shutdown_freed_bytes); }};
  const Column held_n{"Allocations", "count", [](const SiteRow& r, JsonWriter* o) {
                        o->Uint(r.shutdown_freed_allocations);
                      }};
  std::vector<const SiteRow*> rows = HeldUntilShutdown(report, table.program);
  if (rows.size() > 1000) rows.resize(1000);  // as Ranked
  WriteTable(report, "shutdown", {call_site, source, held, held_n}, rows, w);
}

// The sites of definitely and indirectly lost blocks (report.Reachability),
// as the text's "Definitely lost" section; a note when there was no scan.
void WriteLostTable(const report::Report& report, const SiteTable& table, const Column& call_site,
                    const Column& source, JsonWriter* w) {
  if (!report.has_reachability()) {
    WriteTable(report, "lost", {}, {}, w,
               "No reachability scan in this report (leakscope run --reachability, or "
               "leakscope snapshot --reachability PID).");
    return;
  }
  if (!report.reachability().scanned()) {
    const std::string why = "No scan: " + report.reachability().error();
    WriteTable(report, "lost", {}, {}, w, why.c_str());
    return;
  }
  const Column definite{"Definitely lost", "bytes",
                        [](const SiteRow& r, JsonWriter* o) { o->Uint(r.definitely_lost_bytes); }};
  const Column definite_n{"Blocks", "count", [](const SiteRow& r, JsonWriter* o) {
                            o->Uint(r.definitely_lost_allocations);
                          }};
  const Column indirect{"Indirectly lost", "bytes",
                        [](const SiteRow& r, JsonWriter* o) { o->Uint(r.indirectly_lost_bytes); }};
  const Column indirect_n{"Blocks ", "count", [](const SiteRow& r, JsonWriter* o) {
                            o->Uint(r.indirectly_lost_allocations);
                          }};
  std::vector<const SiteRow*> rows = LostRows(table.program);
  if (rows.size() > 1000) rows.resize(1000);  // as Ranked
  WriteTable(report, "lost", {call_site, source, definite, definite_n, indirect, indirect_n}, rows,
             w);
}

void WriteTables(const report::Report& report, const SiteTable& table, JsonWriter* w) {
  const auto function = [&](const SiteRow& r, JsonWriter* o) {
    const int call = CallFrame(report, r.frames);
    o->String(call < 0 ? "(no stack)"
                       : FrameName(FrameAt(report, r.frames[static_cast<size_t>(call)])));
  };
  const auto where = [&](const SiteRow& r, JsonWriter* o) {
    const int call = CallFrame(report, r.frames);
    if (call < 0) return o->String("");
    const report::Frame& f = FrameAt(report, r.frames[static_cast<size_t>(call)]);
    o->String(Basename(f.file()) + (f.line() ? ":" + std::to_string(f.line()) : "") + " (" +
              Basename(f.module()) + ")");
  };
  const Column call_site{"Call site", "", function}, source{"Where", "where", where};
  const Column live{"Live", "bytes",
                    [](const SiteRow& r, JsonWriter* o) { o->Uint(r.live_bytes); }};
  const Column live_n{"Live allocations", "count",
                      [](const SiteRow& r, JsonWriter* o) { o->Uint(r.live_allocations); }};
  const Column peak{"At peak", "bytes",
                    [](const SiteRow& r, JsonWriter* o) { o->Uint(r.peak_live_bytes); }};
  const Column calls{"Calls", "count",
                     [](const SiteRow& r, JsonWriter* o) { o->Uint(r.allocations); }};
  const Column allocated{"Allocated", "bytes",
                         [](const SiteRow& r, JsonWriter* o) { o->Uint(r.allocated_bytes); }};
  const Column temporary{"Temporary", "count",
                         [](const SiteRow& r, JsonWriter* o) { o->Uint(r.temporary_allocations); }};
  w->Key("tables");
  w->BeginArray();
  WriteGrowthTable(report, table, call_site, source, w);
  const bool scanned = report.has_reachability() && report.reachability().scanned();
  std::vector<Column> leaks = {call_site, source, live, live_n, calls};
  if (scanned) {  // each site's live bytes by verdict
    leaks.push_back({"Definitely lost", "bytes",
                     [](const SiteRow& r, JsonWriter* o) { o->Uint(r.definitely_lost_bytes); }});
    leaks.push_back({"Indirectly lost", "bytes",
                     [](const SiteRow& r, JsonWriter* o) { o->Uint(r.indirectly_lost_bytes); }});
    leaks.push_back({"Possibly lost", "bytes",
                     [](const SiteRow& r, JsonWriter* o) { o->Uint(r.possibly_lost_bytes); }});
    leaks.push_back({"Still reachable", "bytes",
                     [](const SiteRow& r, JsonWriter* o) { o->Uint(r.reachable_bytes); }});
  }
  WriteTable(report, "leaks", leaks,
             Ranked(table.program, [](const SiteRow& r) { return r.live_bytes; }), w);
  WriteLostTable(report, table, call_site, source, w);
  WriteShutdownTable(report, table, call_site, source, w);
  WriteTable(report, "peak", {call_site, source, peak, live},
             Ranked(table.program, [](const SiteRow& r) { return r.peak_live_bytes; }), w);
  WriteTable(report, "allocations", {call_site, source, calls, allocated},
             Ranked(table.program, [](const SiteRow& r) { return r.allocations; }), w);
  if (TemporariesCounted(report)) {
    WriteTable(report, "temporary", {call_site, source, temporary, calls},
               Ranked(table.program, [](const SiteRow& r) { return r.temporary_allocations; }), w);
  } else {
    WriteTable(report, "temporary", {}, {}, w,
               "Not counted in sampled mode: a sample does not show the allocations made "
               "between it and its free.");
  }
  WriteTable(report, "internals", {call_site, source, live, live_n},
             Ranked(table.internals, [](const SiteRow& r) { return r.live_bytes; }), w);
  w->EndArray();
}

void WriteTimeline(const report::Report& report, JsonWriter* w) {
  w->Key("timeline");
  w->BeginArray();
  for (const report::TimelinePoint& p : report.timeline()) {
    w->BeginObject();
    w->Field("t", static_cast<double>(p.time_ns()) / 1e9);
    w->Field("live", p.live_bytes());
    w->Field("rss", p.rss_bytes());
    w->EndObject();
  }
  w->EndArray();
}

// "</" would end the <script> element early; "<\/" is the same JSON string.
std::string ScriptSafe(const std::string& json) {
  std::string out;
  out.reserve(json.size());
  for (size_t i = 0; i < json.size(); ++i) {
    out += json[i];
    if (json[i] == '<' && i + 1 < json.size() && json[i + 1] == '/') out += '\\';
  }
  return out;
}

}  // namespace

std::string HtmlPageData(const report::Report& report, const SiteFilter& filter) {
  const SiteTable table = BuildSiteTable(report, filter);
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  WriteSummary(report, table, &w);
  WriteIntegrityFlags(report, &w);
  w.Key("flame");
  WriteFlame("all surviving bytes", BuildFlame(report, table), &w);
  WriteTables(report, table, &w);
  WriteTimeline(report, &w);
  w.EndObject();
  return ScriptSafe(out);
}

}  // namespace leakscope::viewer
