#include "report_builder.h"

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include "frame_ids.h"
#include "growth.h"
#include "reachability_report.h"
#include "report_file.h"

namespace leakscope::collector {
namespace {

// A site after symbolization: sites with equal frames are merged into one.
struct MergedSite {
  std::vector<uint32_t> frames;  // FrameIds ids, those of its first site
  SiteStats stats;
  uint64_t live_bytes = 0, allocated_bytes = 0;  // its report figures, for the order
};

auto FrameTie(const SymbolizedFrame& f) {
  return std::tie(f.function, f.file, f.line, f.module, f.inlined, f.module_offset);
}

bool FramesLess(const FrameIds& ids, const std::vector<uint32_t>& a,
                const std::vector<uint32_t>& b) {
  return std::lexicographical_compare(
      a.begin(), a.end(), b.begin(), b.end(), [&ids](uint32_t x, uint32_t y) {
        return x != y && FrameTie(ids.frame(x)) < FrameTie(ids.frame(y));
      });
}

}  // namespace

std::vector<SymbolizedFrame> SiteFrames(const std::vector<uint64_t>& pcs,
                                        const SymbolizeFn& symbolize) {
  std::vector<SymbolizedFrame> frames;
  for (uint64_t pc : pcs) {
    const auto& f = symbolize(pc ? pc - 1 : 0);  // call site = return address - 1
    frames.insert(frames.end(), f.begin(), f.end());
  }
  size_t drop = 0;
  while (drop + 1 < frames.size() && IsAllocatorFrame(frames[drop])) ++drop;
  frames.erase(frames.begin(), frames.begin() + drop);
  // Deeper in, the shim's frames are its own plumbing (the wrapper around
  // main that sees its return value), never part of the program's story.
  frames.erase(std::remove_if(frames.begin() + (frames.empty() ? 0 : 1), frames.end(), IsShimFrame),
               frames.end());
  return frames;
}

namespace {

void AddStats(const SiteStats& s, SiteStats* into) {
  into->live_bytes_fp += s.live_bytes_fp;
  into->live_count_fp += s.live_count_fp;
  into->allocated_bytes_fp += s.allocated_bytes_fp;
  into->allocated_count_fp += s.allocated_count_fp;
  into->temporary_count_fp += s.temporary_count_fp;
  into->live_samples += s.live_samples;
  into->live_variance += s.live_variance;
  into->at_peak_bytes_fp += s.at_peak_bytes_fp;  // all taken at the same moment
  into->inherited_live_bytes_fp += s.inherited_live_bytes_fp;
  into->inherited_live_count_fp += s.inherited_live_count_fp;
  into->shutdown_freed_bytes_fp += s.shutdown_freed_bytes_fp;
  into->shutdown_freed_count_fp += s.shutdown_freed_count_fp;
}

report::Site SiteFigures(const SiteStats& s, bool exact) {
  report::Site out;
  out.set_live_bytes(FromFixed(s.live_bytes_fp, kByteFracBits));
  out.set_live_allocations(FromFixed(s.live_count_fp, kCountFracBits));
  out.set_allocated_bytes(FromFixed(s.allocated_bytes_fp, kByteFracBits));
  out.set_allocations(FromFixed(s.allocated_count_fp, kCountFracBits));
  out.set_peak_live_bytes(FromFixed(s.at_peak_bytes_fp, kByteFracBits));
  out.set_temporary_allocations(FromFixed(s.temporary_count_fp, kCountFracBits));
  out.set_live_samples(s.live_samples);
  out.set_inherited_live_bytes(FromFixed(s.inherited_live_bytes_fp, kByteFracBits));
  out.set_inherited_live_allocations(FromFixed(s.inherited_live_count_fp, kCountFracBits));
  out.set_shutdown_freed_bytes(FromFixed(s.shutdown_freed_bytes_fp, kByteFracBits));
  out.set_shutdown_freed_allocations(FromFixed(s.shutdown_freed_count_fp, kCountFracBits));
  if (exact) {
    out.set_live_bytes_ci_low(out.live_bytes());
    out.set_live_bytes_ci_high(out.live_bytes());
  } else {
    const double estimate = std::ldexp(static_cast<double>(s.live_bytes_fp), -kByteFracBits);
    const double half_width = 1.96 * std::sqrt(s.live_variance);
    out.set_live_bytes_ci_low(
        static_cast<uint64_t>(std::llround(std::max(0.0, estimate - half_width))));
    out.set_live_bytes_ci_high(static_cast<uint64_t>(std::llround(estimate + half_width)));
  }
  return out;
}

// The merged sites, and their order in the report (by live bytes, then
// allocated bytes, then frames). Sorted as indexes: Node.js has 20,000.
// The report's Site messages are made in that order, one at a time: all of
// them at once, beside the report's, took 8 MiB more (every page of it a
// page fault, ~4 ms a MiB on this VM).
struct MergedSites {
  std::vector<MergedSite> sites;
  std::vector<uint32_t> order;
  std::vector<uint32_t> of_state;  // per ProcessState site: its merged site, or kNoSite
};

MergedSites MergeSites(const ProcessState& state, FrameIds* ids) {
  MergedSites merged;
  merged.sites.reserve(state.site_count());
  // Merged when their frames are equal line by line: the same keys.
  std::unordered_map<std::string, size_t> by_frames;
  by_frames.reserve(state.site_count());
  merged.of_state.assign(state.site_count(), Timeline::kNoSite);
  std::vector<uint32_t> frames;
  std::string key;
  for (size_t i = 0; i < state.site_count(); ++i) {
    const SiteStats stats = state.site(i);
    // Defined, never allocated (an inherited site counts while it holds
    // memory, or if it held some until shutdown).
    if (stats.allocated_count_fp == 0 && stats.live_samples == 0 &&
        stats.shutdown_freed_count_fp == 0)
      continue;
    ids->SiteIds(state.site_pcs(i), &frames);
    key.clear();
    for (uint32_t id : frames) {
      const uint32_t k = ids->key(id);
      key.append(reinterpret_cast<const char*>(&k), sizeof k);
    }
    auto [it, added] = by_frames.emplace(key, merged.sites.size());
    if (added) merged.sites.emplace_back().frames = frames;
    AddStats(stats, &merged.sites[it->second].stats);
    merged.of_state[i] = static_cast<uint32_t>(it->second);
  }
  for (auto& m : merged.sites) {
    m.live_bytes = FromFixed(m.stats.live_bytes_fp, kByteFracBits);
    m.allocated_bytes = FromFixed(m.stats.allocated_bytes_fp, kByteFracBits);
  }
  merged.order.resize(merged.sites.size());
  for (uint32_t i = 0; i < merged.order.size(); ++i) merged.order[i] = i;
  const std::vector<MergedSite>& sites = merged.sites;
  std::sort(merged.order.begin(), merged.order.end(), [ids, &sites](uint32_t x, uint32_t y) {
    const MergedSite& a = sites[x];
    const MergedSite& b = sites[y];
    if (a.live_bytes != b.live_bytes) return a.live_bytes > b.live_bytes;
    if (a.allocated_bytes != b.allocated_bytes) return a.allocated_bytes > b.allocated_bytes;
    return FramesLess(*ids, a.frames, b.frames);
  });
  return merged;
}

// The report's frame table: a frame's index in r->frames(), by key, in the
// order the sites use them (heap sites first, then mappings).
class FrameTable {
 public:
  FrameTable(FrameIds* ids, report::Report* r) : ids_(*ids), r_(r) {}
  uint32_t Index(uint32_t id) {
    // Keys count from 0 (FrameIds): a vector, grown as mappings' sites add
    // keys, not a hash map (Node.js: 700,000 site frames).
    const uint32_t key = ids_.key(id);
    if (key >= index_.size()) index_.resize(key + 1, kNone);
    uint32_t& index = index_[key];
    if (index == kNone) {
      index = static_cast<uint32_t>(r_->frames_size());
      const SymbolizedFrame& f = ids_.frame(id);
      report::Frame* out = r_->add_frames();
      out->set_function(f.function);
      out->set_file(f.file);
      out->set_line(f.line);
      out->set_module(f.module);
      out->set_inlined(f.inlined);
      out->set_module_offset(f.module_offset);
    }
    return index;
  }

 private:
  static constexpr uint32_t kNone = ~0u;
  FrameIds& ids_;
  report::Report* r_;
  std::vector<uint32_t> index_;  // by key; kNone: not in the table yet
};

// Returns, per ProcessState site, its index in r->sites() (kNoSite if none).
std::vector<uint32_t> FillSites(const ProcessState& state, FrameIds* ids, FrameTable* table,
                                report::Report* r) {
  MergedSites merged = MergeSites(state, ids);
  const bool exact = state.weights().exact();
  std::vector<uint32_t> position(merged.sites.size());  // merged site -> index in r->sites()
  r->mutable_sites()->Reserve(static_cast<int>(merged.order.size()));
  for (uint32_t o : merged.order) {
    const MergedSite& m = merged.sites[o];
    position[o] = static_cast<uint32_t>(r->sites_size());
    report::Site* out = r->add_sites();
    *out = SiteFigures(m.stats, exact);
    out->mutable_frames()->Reserve(static_cast<int>(m.frames.size()));
    for (uint32_t id : m.frames) out->add_frames(table->Index(id));
  }
  std::vector<uint32_t>& report_site = merged.of_state;
  for (uint32_t& s : report_site)
    if (s != Timeline::kNoSite) s = position[s];
  return std::move(report_site);
}

// The program's anonymous mappings by site (merged by frames, as heap
// sites are), largest live first: absent if it never mapped any.
void FillMappings(const ProcessState& state, FrameIds* ids, FrameTable* table, report::Report* r) {
  const AnonMappings& maps = state.mappings();
  if (maps.mappings() == 0 && maps.live_mappings() == 0) return;
  report::Mappings* out = r->mutable_mappings();
  out->set_live_bytes(maps.live_bytes());
  out->set_live_mappings(maps.live_mappings());
  out->set_mappings(maps.mappings());
  struct Merged {
    std::vector<uint32_t> frames;
    report::MappingSite out;
  };
  std::vector<Merged> merged;
  std::unordered_map<std::string, size_t> by_frames;
  std::vector<uint32_t> frames;
  std::string key;
  for (size_t i = 0; i < maps.sites().size() && i < state.site_count(); ++i) {
    const MappingSiteStats& s = maps.sites()[i];
    if (s.mappings == 0 && s.live_mappings == 0) continue;
    ids->SiteIds(state.site_pcs(i), &frames);
    key.clear();
    for (uint32_t id : frames) {
      const uint32_t k = ids->key(id);
      key.append(reinterpret_cast<const char*>(&k), sizeof k);
    }
    auto [it, added] = by_frames.emplace(key, merged.size());
    if (added) merged.push_back({frames, {}});
    report::MappingSite& m = merged[it->second].out;
    m.set_live_bytes(m.live_bytes() + s.live_bytes);
    m.set_live_mappings(m.live_mappings() + s.live_mappings);
    m.set_mapped_bytes(m.mapped_bytes() + s.mapped_bytes);
    m.set_mappings(m.mappings() + s.mappings);
    m.set_inherited_live_bytes(m.inherited_live_bytes() + s.inherited_live_bytes);
  }
  std::sort(merged.begin(), merged.end(), [ids](const Merged& a, const Merged& b) {
    if (a.out.live_bytes() != b.out.live_bytes()) return a.out.live_bytes() > b.out.live_bytes();
    if (a.out.mapped_bytes() != b.out.mapped_bytes())
      return a.out.mapped_bytes() > b.out.mapped_bytes();
    return FramesLess(*ids, a.frames, b.frames);
  });
  for (Merged& m : merged) {
    for (uint32_t id : m.frames) m.out.add_frames(table->Index(id));
    *out->add_sites() = std::move(m.out);
  }
}

// The modules the frames name, with their build ids (pprof mappings).
void FillModules(const ProcessState& state, report::Report* r) {
  std::unordered_set<std::string> named;
  for (const report::Frame& f : r->frames())
    if (!f.module().empty()) named.insert(f.module());
  for (const ModuleInfo& m : state.modules()) {
    if (named.erase(m.path) == 0) continue;  // not named, or added already
    report::Module* out = r->add_modules();
    out->set_path(m.path);
    out->set_build_id(m.build_id);
  }
}

void FillProcess(const ProcessState& state, const ReportContext& context, report::Report* r) {
  const wire::Hello& hello = state.hello();
  report::Process* p = r->mutable_process();
  p->set_pid(hello.pid());
  p->set_ppid(hello.ppid());
  p->set_exe(hello.exe());
  p->mutable_argv()->CopyFrom(hello.argv());
  p->set_start_time_unix_ns(hello.start_time_unix_ns());
  p->set_end_time_unix_ns(context.end_time_unix_ns);
  p->set_forked(hello.forked());
  if (hello.forked()) p->set_parent_pid(hello.parent_pid() ? hello.parent_pid() : hello.ppid());
  switch (state.inheritance()) {
    case Inheritance::kNotForked:
      p->set_inheritance(report::Process::NOT_FORKED);
      break;
    case Inheritance::kInherited:
      p->set_inheritance(report::Process::INHERITED);
      break;
    case Inheritance::kUnavailable:
      p->set_inheritance(report::Process::INHERITANCE_UNAVAILABLE);
      break;
  }
  if (state.has_goodbye()) p->set_how(state.goodbye().how());
  p->set_exit_began(state.exit_began());
  if (context.wait_status) {
    ApplyWaitStatus(*context.wait_status, r);
  } else if (state.has_goodbye() && state.goodbye().has_exit_status()) {
    p->set_end(report::Process::EXITED);
    p->set_exit_status(state.goodbye().exit_status());
  } else if (state.has_goodbye()) {
    p->set_end(report::Process::ENDED);
  } else {
    p->set_end(context.running ? report::Process::RUNNING : report::Process::DISCONNECTED);
  }
}

void FillTotals(const ProcessState& state, report::Report* r) {
  const ProcessTotals& t = state.totals();
  report::Totals* out = r->mutable_totals();
  out->set_allocations(FromFixed(t.allocated_count_fp, kCountFracBits));
  out->set_frees(FromFixed(t.freed_count_fp, kCountFracBits));
  out->set_allocated_bytes(FromFixed(t.allocated_bytes_fp, kByteFracBits));
  out->set_live_bytes(FromFixed(t.live_bytes_fp, kByteFracBits));
  out->set_live_allocations(FromFixed(t.live_count_fp, kCountFracBits));
  out->set_peak_live_bytes(FromFixed(t.peak_live_bytes_fp, kByteFracBits));
  out->set_peak_time_ns(t.peak_time_ns);
  out->set_unmatched_frees(t.unmatched_frees);
  out->set_folded_allocations(t.folded_allocations);
  out->set_inherited_bytes(FromFixed(t.inherited_bytes_fp, kByteFracBits));
  out->set_inherited_allocations(FromFixed(t.inherited_count_fp, kCountFracBits));
  out->set_inherited_live_bytes(FromFixed(t.inherited_live_bytes_fp, kByteFracBits));
  out->set_inherited_live_allocations(FromFixed(t.inherited_live_count_fp, kCountFracBits));
  out->set_shutdown_freed_bytes(FromFixed(t.shutdown_freed_bytes_fp, kByteFracBits));
  out->set_shutdown_freed_allocations(FromFixed(t.shutdown_freed_count_fp, kCountFracBits));
}

// Report site -> the timeline slots whose sites were merged into it.
std::map<uint32_t, std::vector<size_t>> SlotsByReportSite(
    const Timeline& timeline, const std::vector<uint32_t>& report_site) {
  std::map<uint32_t, std::vector<size_t>> slots;
  for (size_t i = 0; i < Timeline::kTrackedSites; ++i) {
    const uint32_t s = timeline.slot_sites()[i];
    if (s != Timeline::kNoSite && s < report_site.size() && report_site[s] != Timeline::kNoSite)
      slots[report_site[s]].push_back(i);
  }
  return slots;
}

// A report site's bytes at one point; nullopt if a slot of it was not tracked yet.
std::optional<uint64_t> SiteBytesAt(const Timeline::Point& p, const std::vector<size_t>& slots) {
  uint64_t sum = 0;
  for (size_t slot : slots) {
    if (p.site_bytes[slot] == Timeline::kUnknown) return std::nullopt;
    sum += p.site_bytes[slot];
  }
  return sum;
}

void FillGrowthSuspects(const Timeline& timeline,
                        const std::map<uint32_t, std::vector<size_t>>& slots, report::Report* r) {
  std::vector<report::GrowthSuspect> suspects;
  for (const auto& [site, site_slots] : slots) {
    std::vector<SeriesPoint> series;
    for (const Timeline::Point& p : timeline.points())
      if (auto bytes = SiteBytesAt(p, site_slots)) series.push_back({p.time_ns, *bytes});
    std::optional<Growth> g = SustainedGrowth(series);
    if (!g) continue;
    report::GrowthSuspect out;
    out.set_site(site);
    out.set_bytes_per_hour(g->bytes_per_hour);
    out.set_confidence(g->confidence);
    suspects.push_back(out);
  }
  // Fastest growth first.
  std::sort(suspects.begin(), suspects.end(),
            [](const auto& a, const auto& b) { return a.bytes_per_hour() > b.bytes_per_hour(); });
  for (auto& s : suspects) *r->add_growth_suspects() = std::move(s);
}

void FillTimeline(const Timeline& timeline, const std::vector<uint32_t>& report_site,
                  report::Report* r) {
  const auto slots = SlotsByReportSite(timeline, report_site);
  for (const Timeline::Point& p : timeline.points()) {
    report::TimelinePoint* out = r->add_timeline();
    out->set_time_ns(p.time_ns);
    out->set_live_bytes(p.live_bytes);
    out->set_rss_bytes(p.rss_bytes);
    out->set_allocations(p.allocations);
    out->set_frees(p.frees);
    if (p.memory_known) {
      out->set_memory_known(true);
      out->set_allocator_in_use_bytes(p.allocator_in_use_bytes);
      out->set_allocator_free_bytes(p.allocator_free_bytes);
      out->set_allocator_mapped_bytes(p.allocator_mapped_bytes);
      out->set_anonymous_bytes(p.anonymous_bytes);
      out->set_stack_bytes(p.stack_bytes);
      out->set_file_bytes(p.file_bytes);
    }
    for (const auto& [site, site_slots] : slots) {
      if (auto bytes = SiteBytesAt(p, site_slots)) {
        report::SiteBytes* sb = out->add_top_sites();
        sb->set_site(site);
        sb->set_live_bytes(*bytes);
      }
    }
  }
  FillGrowthSuspects(timeline, slots, r);
}

void FillMemory(const ProcessStats& s, report::Report* r) {
  if (!s.has_memory) return;
  const wire::MemoryStats& m = s.memory;
  report::Memory* out = r->mutable_memory();
  out->set_time_ns(s.memory_time_ns);
  out->set_allocator(m.allocator());
  out->set_allocator_in_use_bytes(m.allocator_in_use_bytes());
  out->set_allocator_free_bytes(m.allocator_free_bytes());
  out->set_allocator_mapped_bytes(m.allocator_mapped_bytes());
  out->set_allocator_releasable_bytes(m.allocator_releasable_bytes());
  out->set_maps_read(m.maps_read());
  out->set_rss_bytes(m.rss_bytes());
  out->set_anonymous_bytes(m.anonymous_bytes());
  out->set_stack_bytes(m.stack_bytes());
  out->set_file_bytes(m.file_bytes());
  out->set_thread_stacks(m.thread_stacks());
}

}  // namespace

callsite::FrameRef Ref(const SymbolizedFrame& f) {
  return {f.function, f.file, f.line, f.module, f.module_offset};
}

std::vector<callsite::FrameRef> Refs(const std::vector<SymbolizedFrame>& frames) {
  std::vector<callsite::FrameRef> out;
  out.reserve(frames.size());
  for (const SymbolizedFrame& f : frames) out.push_back(Ref(f));
  return out;
}

bool IsShimFrame(const SymbolizedFrame& f) {
  return callsite::IsShimFrame(Ref(f));
}

bool IsAllocatorFrame(const SymbolizedFrame& f) {
  return callsite::IsAllocatorFrame(Ref(f));
}

void ApplyWaitStatus(int wait_status, report::Report* report) {
  report::Process* p = report->mutable_process();
  if (WIFSIGNALED(wait_status)) {
    p->set_end(report::Process::SIGNALED);
    p->set_signal(WTERMSIG(wait_status));
    p->clear_exit_status();
  } else if (WIFEXITED(wait_status)) {
    p->set_end(report::Process::EXITED);
    p->set_exit_status(WEXITSTATUS(wait_status));
    p->clear_signal();
  }
}

report::Report BuildReport(const ProcessState& state, const ReportContext& context,
                           const SymbolizeFn& symbolize) {
  report::Report r;
  r.set_format_version(report::kReportFormatVersion);
  r.set_sampling_interval_bytes(state.weights().interval());
  r.set_final(!context.running);
  r.set_written_unix_ns(context.written_unix_ns);
  r.set_dropped_events(state.stats().dropped_events);
  r.set_reentrant_events(state.stats().reentrant_events);
  r.set_rss_bytes(state.stats().rss_bytes);
  FillMemory(state.stats(), &r);
  FillProcess(state, context, &r);
  FillTotals(state, &r);
  FrameIds ids(symbolize);
  FrameTable table(&ids, &r);
  const std::vector<uint32_t> report_site = FillSites(state, &ids, &table, &r);
  FillMappings(state, &ids, &table, &r);
  FillModules(state, &r);
  if (context.timeline) FillTimeline(*context.timeline, report_site, &r);
  FillReachability(state, report_site, &r);
  return r;
}

report::Report BuildReport(const ProcessState& state, const ReportContext& context) {
  Symbolizer symbolizer;
  for (const ModuleInfo& m : state.modules()) symbolizer.AddModule(m);
  return BuildReport(state, context, [&](uint64_t pc) -> const std::vector<SymbolizedFrame>& {
    return symbolizer.Symbolize(pc);
  });
}

}  // namespace leakscope::collector
