#include "site_table.h"

#include <algorithm>
#include <unordered_map>

#include "report_facts.h"

namespace leakscope::viewer {
namespace {

// Per entry of the frame table: does the regex find a match in its function,
// file or module? Sites share frames, so each frame is searched once.
std::vector<bool> RegexFrames(const report::Report& report, const FrameRegex& re) {
  std::vector<bool> matched(static_cast<size_t>(report.frames_size()), false);
  for (int i = 0; i < report.frames_size(); ++i) {
    const report::Frame& f = report.frames(i);
    for (const std::string* text : {&f.function(), &f.file(), &f.module()}) {
      if (!text->empty() && re.Search(*text)) matched[static_cast<size_t>(i)] = true;
    }
  }
  return matched;
}

bool AnyMarked(const report::Site& site, const std::vector<bool>& marked) {
  for (uint32_t index : site.frames()) {
    if (index < marked.size() && marked[index]) return true;
  }
  return false;
}

// Which frames each rule matches, worked out once for the whole report.
struct FrameMarks {
  std::vector<bool> included, excluded, suppressed, internal;
};

FrameMarks MarkFrames(const report::Report& report, const SiteFilter& filter) {
  FrameMarks marks;
  if (filter.include) marks.included = RegexFrames(report, *filter.include);
  if (filter.exclude) marks.excluded = RegexFrames(report, *filter.exclude);
  marks.suppressed = filter.suppressions.MatchFrames(report);
  marks.internal = DefaultInternals().MatchFrames(report);
  return marks;
}

bool PassesFilter(const report::Site& site, const SiteFilter& f, const FrameMarks& marks) {
  if (f.include && !AnyMarked(site, marks.included)) return false;
  if (f.exclude && AnyMarked(site, marks.excluded)) return false;
  return true;
}

// What sites are grouped by: the program's call frame's function, file or module.
// Frames without that piece of information stay apart (keyed by frame index).
std::string GroupKey(const report::Report& report, int site_index, GroupBy by) {
  const report::Site& site = report.sites(site_index);
  const int call = CallFrame(report, site);
  if (call < 0) return "#site" + std::to_string(site_index);
  const report::Frame& f = FrameAt(report, site.frames(call));
  const std::string& piece = by == GroupBy::kFunction ? f.function()
                             : by == GroupBy::kFile   ? f.file()
                                                      : f.module();
  if (piece.empty()) return "#frame" + std::to_string(site.frames(call));
  return piece;
}

void AddSite(const report::Site& s, int index, SiteRow* row) {
  row->sites.push_back(index);
  row->live_bytes += s.live_bytes();
  row->live_allocations += s.live_allocations();
  row->allocated_bytes += s.allocated_bytes();
  row->allocations += s.allocations();
  row->peak_live_bytes += s.peak_live_bytes();
  row->temporary_allocations += s.temporary_allocations();
  row->live_samples += s.live_samples();
  row->inherited_live_bytes += s.inherited_live_bytes();
  row->inherited_live_allocations += s.inherited_live_allocations();
  row->shutdown_freed_bytes += s.shutdown_freed_bytes();
  row->shutdown_freed_allocations += s.shutdown_freed_allocations();
  row->definitely_lost_bytes += s.definitely_lost_bytes();
  row->definitely_lost_allocations += s.definitely_lost_allocations();
  row->indirectly_lost_bytes += s.indirectly_lost_bytes();
  row->indirectly_lost_allocations += s.indirectly_lost_allocations();
  row->possibly_lost_bytes += s.possibly_lost_bytes();
  row->possibly_lost_allocations += s.possibly_lost_allocations();
  row->reachable_bytes += s.reachable_bytes();
  row->reachable_allocations += s.reachable_allocations();
  row->live_bytes_ci_low += s.live_bytes_ci_low();
  row->live_bytes_ci_high += s.live_bytes_ci_high();
}

SiteRow StackRow(const report::Report& report, int index) {
  SiteRow row;
  const report::Site& s = report.sites(index);
  row.frames.assign(s.frames().begin(), s.frames().end());
  AddSite(s, index, &row);
  return row;
}

// Rows for `indexes`, grouped as asked. For a group, the frames shown are
// the call frame alone: the sites summed have different callers.
std::vector<SiteRow> MakeRows(const report::Report& report, const std::vector<int>& indexes,
                              GroupBy by) {
  std::vector<SiteRow> rows;
  if (by == GroupBy::kStack) {
    rows.reserve(indexes.size());
    for (int i : indexes) rows.push_back(StackRow(report, i));
  } else {
    std::unordered_map<std::string, size_t> row_of;
    for (int i : indexes) {
      auto [it, added] = row_of.emplace(GroupKey(report, i, by), rows.size());
      if (added) {
        rows.emplace_back();
        const int call = CallFrame(report, report.sites(i));
        if (call >= 0) rows.back().frames.push_back(report.sites(i).frames(call));
      }
      AddSite(report.sites(i), i, &rows[it->second]);
    }
  }
  std::stable_sort(rows.begin(), rows.end(),
                   [](const SiteRow& a, const SiteRow& b) { return a.live_bytes > b.live_bytes; });
  return rows;
}

}  // namespace

bool ParseGroupBy(const std::string& word, GroupBy* out) {
  if (word == "stack")
    *out = GroupBy::kStack;
  else if (word == "function")
    *out = GroupBy::kFunction;
  else if (word == "file")
    *out = GroupBy::kFile;
  else if (word == "module")
    *out = GroupBy::kModule;
  else
    return false;
  return true;
}

bool CompileFrameRegex(const std::string& pattern, std::shared_ptr<const FrameRegex>* out,
                       std::string* error) {
  return FrameRegex::Compile(pattern, out, error);
}

SiteTable BuildSiteTable(const report::Report& report, const SiteFilter& filter) {
  SiteTable table;
  const FrameMarks marks = MarkFrames(report, filter);
  std::vector<int> program, internals;
  for (int i : SitesByLiveBytes(report, 0)) {
    const report::Site& s = report.sites(i);
    if (!PassesFilter(s, filter, marks)) {
      ++table.filtered_sites;
    } else if (AnyMarked(s, marks.suppressed)) {
      ++table.suppressed_sites;
      table.suppressed_bytes += s.live_bytes();
    } else if (AnyMarked(s, marks.internal)) {
      internals.push_back(i);
    } else {
      program.push_back(i);
    }
  }
  table.program = MakeRows(report, program, filter.by);
  table.internals = MakeRows(report, internals, filter.by);
  return table;
}

std::vector<const SiteRow*> Surviving(const std::vector<SiteRow>& rows) {
  std::vector<const SiteRow*> out;
  for (const SiteRow& r : rows) {
    if (r.live_bytes > 0 || r.live_allocations > 0) out.push_back(&r);
  }
  return out;
}

std::vector<const SiteRow*> HeldUntilShutdown(const report::Report& report,
                                              const std::vector<SiteRow>& rows) {
  std::vector<const SiteRow*> out;
  if (!report.process().exit_began()) return out;
  for (const SiteRow& r : rows) {
    if (r.shutdown_freed_allocations > 0) out.push_back(&r);
  }
  std::stable_sort(out.begin(), out.end(), [](const SiteRow* a, const SiteRow* b) {
    return a->shutdown_freed_bytes > b->shutdown_freed_bytes;
  });
  return out;
}

uint64_t LiveBytesOf(const std::vector<SiteRow>& rows) {
  uint64_t total = 0;
  for (const SiteRow& r : rows) total += r.live_bytes;
  return total;
}

}  // namespace leakscope::viewer
