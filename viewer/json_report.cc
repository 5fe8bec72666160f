#include "json_report.h"

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "integrity.h"
#include "json_reachability.h"
#include "json_shutdown.h"
#include "json_writer.h"
#include "memory_breakdown.h"
#include "report_facts.h"

namespace leakscope::viewer {
namespace {

void WriteProcess(const report::Process& p, JsonWriter* w) {
  w->Key("process");
  w->BeginObject();
  w->Field("pid", p.pid());
  w->Field("ppid", p.ppid());
  w->Field("exe", p.exe());
  w->Key("argv");
  w->BeginArray();
  for (const std::string& arg : p.argv()) w->String(arg);
  w->EndArray();
  if (p.end() == report::Process::EXITED) w->Field("exit_status", p.exit_status());
  if (p.end() == report::Process::SIGNALED) w->Field("signal", p.signal());
  w->Field("end", EndWord(p.end()));
  if (!p.how().empty()) w->Field("how", p.how());  // "exit", "exec", "signal SIGABRT", ...
  if (!p.cut_short().empty()) w->Field("cut_short", p.cut_short());  // by the collector: why
  w->Field("forked", p.forked());
  if (p.inheritance() != report::Process::NOT_FORKED) {  // absent from older reports
    w->Field("parent_pid", p.parent_pid());
    w->Field("inheritance",
             p.inheritance() == report::Process::INHERITED ? "inherited" : "unavailable");
  }
  w->EndObject();
}

void WriteTotals(const report::Report& report, JsonWriter* w) {
  const report::Totals& t = report.totals();
  w->Key("totals");
  w->BeginObject();
  w->Field("allocations", t.allocations());
  w->Field("frees", t.frees());
  w->Field("allocated_bytes", t.allocated_bytes());
  w->Field("live_bytes", t.live_bytes());
  w->Field("live_allocations", t.live_allocations());
  w->Field("peak_live_bytes", t.peak_live_bytes());
  w->Field("folded_allocations", t.folded_allocations());
  if (report.process().inheritance() == report::Process::INHERITED) {
    w->Field("inherited_bytes", t.inherited_bytes());
    w->Field("inherited_allocations", t.inherited_allocations());
    w->Field("inherited_live_bytes", t.inherited_live_bytes());
    w->Field("inherited_live_allocations", t.inherited_live_allocations());
  }
  w->EndObject();
}

// "complete" is what `check --require-complete` asks for: nothing lost and
// not sampled.
void WriteIntegrity(const report::Report& report, JsonWriter* w) {
  const Integrity i = IntegrityOf(report);
  w->Key("integrity");
  w->BeginObject();
  w->Field("complete", i.Complete());
  w->Field("sampled", i.Sampled());
  w->Field("dropped_events", i.dropped_events);
  w->Field("reentrant_events", i.reentrant_events);
  w->Field("unmatched_frees", i.unmatched_frees);
  w->Field("possibly_missing_ms", i.possibly_missing_ms);
  w->Field("summary", IntegritySummary(i));
  w->EndObject();
}

// The site's id (as /metrics labels it) and which of its frames is the
// program's call (an index into "frames"), absent for a site without frames.
void WriteCallSite(const report::Report& report, const std::vector<uint32_t>& frames,
                   JsonWriter* w) {
  const int call = CallFrame(report, frames);
  if (call < 0) return;
  w->Field("site_id", SiteIdOf(report, frames));
  w->Field("call_site_frame", static_cast<uint64_t>(call));
}

void WriteRow(const report::Report& report, const SiteRow& s, bool internal, JsonWriter* w) {
  w->BeginObject();
  w->Field("live_bytes", s.live_bytes);
  w->Field("live_allocations", s.live_allocations);
  w->Field("allocated_bytes", s.allocated_bytes);
  w->Field("allocations", s.allocations);
  w->Field("peak_live_bytes", s.peak_live_bytes);
  if (TemporariesCounted(report)) w->Field("temporary_allocations", s.temporary_allocations);
  if (report.process().inheritance() == report::Process::INHERITED) {
    w->Field("inherited_live_bytes", s.inherited_live_bytes);
    w->Field("inherited_live_allocations", s.inherited_live_allocations);
  }
  if (SamplingInterval(report) > 1) {
    w->Field("live_samples", s.live_samples);
    w->Field("live_bytes_ci_low", s.live_bytes_ci_low);
    w->Field("live_bytes_ci_high", s.live_bytes_ci_high);
  }
  WriteRowReachability(report, s, w);
  w->Field("internal", internal);
  WriteCallSite(report, s.frames, w);
  w->Key("frames");
  w->BeginArray();
  for (uint32_t index : s.frames) WriteFrameJson(FrameAt(report, index), w);
  w->EndArray();
  w->EndObject();
}

using RowList = std::vector<const SiteRow*>;

// The program's anonymous mappings by site (report.Mappings), apart from the
// heap's; absent if it made none. Every site, live or not, by live bytes.
void WriteMappings(const report::Report& report, size_t top, JsonWriter* w) {
  if (!report.has_mappings()) return;
  const report::Mappings& m = report.mappings();
  w->Key("mappings");
  w->BeginObject();
  w->Field("live_bytes", m.live_bytes());
  w->Field("live_mappings", m.live_mappings());
  w->Field("mappings", m.mappings());
  w->Key("sites");
  w->BeginArray();
  size_t n = 0;
  for (const report::MappingSite& s : m.sites()) {
    if (top != 0 && n++ == top) break;
    const std::vector<uint32_t> frames(s.frames().begin(), s.frames().end());
    w->BeginObject();
    w->Field("live_bytes", s.live_bytes());
    w->Field("live_mappings", s.live_mappings());
    w->Field("mapped_bytes", s.mapped_bytes());
    w->Field("mappings", s.mappings());
    if (report.process().inheritance() == report::Process::INHERITED)
      w->Field("inherited_live_bytes", s.inherited_live_bytes());
    WriteCallSite(report, frames, w);
    w->Key("frames");
    w->BeginArray();
    for (uint32_t index : frames) WriteFrameJson(FrameAt(report, index), w);
    w->EndArray();
    w->EndObject();
  }
  w->EndArray();
  w->EndObject();
}

RowList Limit(RowList rows, size_t top) {
  if (top != 0 && rows.size() > top) rows.resize(top);
  return rows;
}

// Rows with key > 0, by key descending.
RowList RankedBy(const std::vector<SiteRow>& rows,
                 const std::function<uint64_t(const SiteRow&)>& key, size_t top) {
  RowList out;
  for (const SiteRow& r : rows) {
    if (key(r) > 0) out.push_back(&r);
  }
  std::stable_sort(out.begin(), out.end(),
                   [&](const SiteRow* a, const SiteRow* b) { return key(*a) > key(*b); });
  return Limit(out, top);
}

void WriteRows(const report::Report& report, const char* name, const RowList& rows, bool internal,
               JsonWriter* w) {
  w->Key(name);
  w->BeginArray();
  for (const SiteRow* r : rows) WriteRow(report, *r, internal, w);
  w->EndArray();
}

// A ranking repeats sites already in "sites": their figures and the
// program's call frame, not the whole stack again (a long run's report has
// 100,000 stacks of 30 frames).
void WriteRanking(const report::Report& report, const char* name, const RowList& rows,
                  JsonWriter* w) {
  w->Key(name);
  w->BeginArray();
  for (const SiteRow* r : rows) {
    w->BeginObject();
    w->Field("live_bytes", r->live_bytes);
    w->Field("live_allocations", r->live_allocations);
    w->Field("allocated_bytes", r->allocated_bytes);
    w->Field("allocations", r->allocations);
    w->Field("peak_live_bytes", r->peak_live_bytes);
    if (TemporariesCounted(report)) w->Field("temporary_allocations", r->temporary_allocations);
    const int call = CallFrame(report, r->frames);
    if (call >= 0) {
      w->Field("site_id", SiteIdOf(report, r->frames));
      w->Key("call_site");
      WriteFrameJson(FrameAt(report, r->frames[static_cast<size_t>(call)]), w);
    }
    w->EndObject();
  }
  w->EndArray();
}

// Program rows and internals together, by live bytes, as "sites" always was.
void WriteAllSites(const report::Report& report, const SiteTable& table, size_t top,
                   JsonWriter* w) {
  std::vector<std::pair<const SiteRow*, bool>> all;
  for (const SiteRow& r : table.program) all.emplace_back(&r, false);
  for (const SiteRow& r : table.internals) all.emplace_back(&r, true);
  std::stable_sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.first->live_bytes > b.first->live_bytes;
  });
  if (top != 0 && all.size() > top) all.resize(top);
  w->Key("sites");
  w->BeginArray();
  for (const auto& [row, internal] : all) WriteRow(report, *row, internal, w);
  w->EndArray();
}

// An image replaced by exec leaked nothing (its memory went with it), as the
// text and `check` say: what it held is `released_by_exec_bytes`.
void WriteLeakSummary(const report::Report& report, const SiteTable& table, JsonWriter* w) {
  const RowList surviving = Surviving(table.program);
  uint64_t allocations = 0;
  for (const SiteRow* r : surviving) allocations += r->live_allocations;
  const bool exec = EndedByExec(report);
  w->Key("leaks");
  w->BeginObject();
  w->Field("live_bytes", exec ? 0 : LiveBytesOf(table.program));
  w->Field("live_allocations", exec ? 0 : allocations);
  w->Field("sites", exec ? 0 : uint64_t{surviving.size()});
  if (exec) w->Field("released_by_exec_bytes", LiveBytesOf(table.program));
  w->Field("internal_live_bytes", LiveBytesOf(table.internals));
  w->Field("suppressed_sites", uint64_t{table.suppressed_sites});
  w->Field("suppressed_live_bytes", table.suppressed_bytes);
  w->EndObject();
}

void WriteGrowthSuspects(const report::Report& report, const SiteTable& table, size_t top,
                         JsonWriter* w) {
  std::unordered_map<int, const SiteRow*> row_of;
  for (const SiteRow& r : table.program) {
    for (int site : r.sites) row_of[site] = &r;
  }
  std::vector<const report::GrowthSuspect*> suspects;
  for (const report::GrowthSuspect& g : report.growth_suspects()) {
    if (row_of.count(static_cast<int>(g.site())) > 0) suspects.push_back(&g);
  }
  std::stable_sort(suspects.begin(), suspects.end(), [](const auto* a, const auto* b) {
    return a->bytes_per_hour() > b->bytes_per_hour();
  });
  if (top != 0 && suspects.size() > top) suspects.resize(top);
  w->Key("growth_suspects");
  w->BeginArray();
  for (const report::GrowthSuspect* g : suspects) {
    const report::Site& site = report.sites(static_cast<int>(g->site()));
    w->BeginObject();
    w->Field("bytes_per_hour", g->bytes_per_hour());
    w->Field("confidence", g->confidence());
    w->Field("live_bytes", site.live_bytes());
    WriteCallSite(report, {site.frames().begin(), site.frames().end()}, w);
    w->Key("frames");
    w->BeginArray();
    for (uint32_t index : site.frames()) WriteFrameJson(FrameAt(report, index), w);
    w->EndArray();
    w->EndObject();
  }
  w->EndArray();
}

// What the RSS is made of (memory_breakdown.h); absent without report.Memory.
void WriteMemory(const report::Report& report, JsonWriter* w) {
  const MemoryBreakdown b = BreakdownOf(report);
  if (!b.known) return;
  w->Key("memory");
  w->BeginObject();
  w->Field("time_ns", b.time_ns);
  w->Field("rss_bytes", b.rss);
  w->Field("live_heap_bytes", b.live_heap);
  w->Field("allocator", b.allocator);
  if (b.allocator_known) {
    w->Field("allocator_overhead_bytes", b.allocator_overhead);
    w->Field("allocator_free_bytes", b.allocator_free);
    w->Field("allocator_releasable_bytes", b.allocator_releasable);
  }
  if (b.maps_known) {
    if (report.has_mappings()) w->Field("program_mappings_bytes", b.program_mappings);
    w->Field("other_anonymous_bytes", b.other_anonymous);
    w->Field("stack_bytes", b.stacks);
    w->Field("thread_stacks", uint64_t{b.thread_stacks});
    w->Field("file_bytes", b.file);
  }
  int64_t grew = 0;
  uint64_t over_ns = 0;
  const std::string kind = GrowthKind(report, &grew, &over_ns);
  w->Field("growth", kind.empty() ? "none" : kind);  // heap | allocator | outside | none
  if (!kind.empty()) {
    w->Field("growth_bytes", uint64_t(grew));
    w->Field("growth_over_ns", over_ns);
  }
  w->EndObject();
}

void WriteTimeline(const report::Report& report, JsonWriter* w) {
  w->Key("timeline");
  w->BeginArray();
  for (const report::TimelinePoint& p : report.timeline()) {
    w->BeginObject();
    w->Field("time_ns", p.time_ns());
    w->Field("live_bytes", p.live_bytes());
    w->Field("rss_bytes", p.rss_bytes());
    w->Field("allocations", p.allocations());
    w->Field("frees", p.frees());
    if (p.memory_known()) {
      w->Field("allocator_in_use_bytes", p.allocator_in_use_bytes());
      w->Field("allocator_free_bytes", p.allocator_free_bytes());
      w->Field("anonymous_bytes", p.anonymous_bytes());
      w->Field("stack_bytes", p.stack_bytes());
      w->Field("file_bytes", p.file_bytes());
    }
    w->EndObject();
  }
  w->EndArray();
}

}  // namespace

std::string RenderJsonReport(const report::Report& report, const JsonOptions& options) {
  const SiteTable table = BuildSiteTable(report, options.filter);
  const size_t top = options.top;
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  WriteProcess(report.process(), &w);
  w.Field("sampling_interval_bytes", SamplingInterval(report));
  WriteTotals(report, &w);
  w.Field("dropped_events", report.dropped_events());
  w.Field("reentrant_events", report.reentrant_events());
  WriteIntegrity(report, &w);
  WriteReachability(report, &w);
  WriteMemory(report, &w);
  WriteAllSites(report, table, top, &w);
  WriteLeakSummary(report, table, &w);
  WriteRows(report, "internals", Limit(Surviving(table.internals), top), true, &w);
  WriteGrowthSuspects(report, table, top, &w);
  WriteHeldUntilShutdown(report, table, top, &w);
  WriteMappings(report, top, &w);
  const auto by_peak = [](const SiteRow& r) { return r.peak_live_bytes; };
  const auto by_calls = [](const SiteRow& r) { return r.allocations; };
  const auto by_temporary = [](const SiteRow& r) { return r.temporary_allocations; };
  WriteRanking(report, "peak_consumers", RankedBy(table.program, by_peak, top), &w);
  WriteRanking(report, "most_allocations", RankedBy(table.program, by_calls, top), &w);
  // Sampled: not counted (TemporariesCounted), so not shown as "none".
  if (TemporariesCounted(report))
    WriteRanking(report, "temporary_allocations", RankedBy(table.program, by_temporary, top), &w);
  WriteTimeline(report, &w);
  w.EndObject();
  return out;
}

std::string RenderJsonReport(const report::Report& report, size_t top) {
  JsonOptions options;
  options.top = top;
  return RenderJsonReport(report, options);
}

void WriteFrameJson(const report::Frame& f, JsonWriter* w) {
  w->BeginObject();
  w->Field("function", f.function());
  w->Field("file", f.file());
  w->Field("line", f.line());
  w->Field("module", f.module());
  w->Field("inlined", f.inlined());
  w->EndObject();
}

}  // namespace leakscope::viewer
