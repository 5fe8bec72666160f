#include "process_state.h"

#include <algorithm>

// The per-event functions, all inlined into ApplyEvents: one loop, no calls
// (each used to save and restore a handful of registers per event).
#define LS_HOT inline __attribute__((always_inline))

namespace leakscope::collector {
namespace {

// A site's pcs (its vector) with the allocator's rounding: an estimate, for
// the memory budget (site_by_pcs_'s slots are counted apart).
uint64_t SiteBytes(size_t pcs) {
  return pcs * sizeof(uint64_t) + sizeof(std::vector<uint64_t>) + 32;
}

uint64_t ModuleBytes(const std::string& path, const std::string& build_id) {
  return 2 * path.size() + build_id.size() + sizeof(ModuleInfo) + 128;
}

}  // namespace

uint64_t ProcessState::MemoryBytes() const {
  return live_.MemoryBytes() + mappings_.MemoryBytes() + stack_to_site_.MemoryBytes() +
         site_by_pcs_.MemoryBytes() + sites_bytes_ + modules_bytes_ +
         sites_.capacity() * sizeof(SiteStats) +
         site_pcs_.capacity() * sizeof(std::vector<uint64_t>) +
         (reachability_ ? reachability_->not_reachable.bucket_count() * 24 : 0);
}

// Per new stack: a site at most, and its id; per allocation: an entry.
// Containers that double may hold the old and the new array at once.
uint64_t ProcessState::GrowthBound(const wire::Message& m) const {
  uint64_t bytes = 0, sparse = 0;
  uint32_t max_dense = 0;
  for (const wire::Stack& s : m.stacks()) {
    bytes += SiteBytes(s.pcs_size());
    if (s.id() < StackIdMap::kDenseLimit)
      max_dense = std::max(max_dense, s.id());
    else
      ++sparse;
  }
  if (m.stacks_size() > 0) {
    const uint64_t sites = sites_.size() + uint64_t(m.stacks_size());
    bytes += 2 * sites * (sizeof(SiteStats) + sizeof(std::vector<uint64_t>));
    bytes += site_by_pcs_.GrowthBound(uint64_t(m.stacks_size()));
  }
  bytes += stack_to_site_.GrowthBound(max_dense, sparse);
  for (const wire::Module& mod : m.modules())
    bytes += ModuleBytes(mod.path(), mod.build_id()) + uint64_t(mod.exec_ranges_size()) * 8;
  if (m.has_events()) bytes += live_.GrowthBound(uint64_t(m.events().stack_id_size()));
  // A map event adds at most two pieces (a split), or a site's stats.
  bytes += uint64_t(m.map_events_size()) * (2 * 120 + sizeof(MappingSiteStats));
  return bytes;
}

void ProcessState::Apply(const wire::Message& m, ForkSnapshot* inherited) {
  if (m.has_hello()) {
    ApplyHello(m.hello());
    if (m.hello().forked()) Inherit(inherited);
  }
  ApplyModules(m);
  ApplyStacks(m);
  if (m.has_events()) ApplyEvents(m.events());
  if (m.map_events_size()) ApplyMapEvents(m);
  if (m.has_stats()) ApplyStats(m.stats());
  if (m.has_exit_marker()) NoteExitBegan();  // after this message's events
  if (m.has_goodbye()) {
    has_goodbye_ = true;
    goodbye_ = m.goodbye();
  }
}

void ProcessState::NoteExitBegan() {
  if (held_below_seq_ == 0) held_below_seq_ = allocation_seq_ + 1;
}

void ProcessState::CountShutdownFree(uint32_t site, const SampleWeight& w) {
  SiteStats& s = sites_[site];
  s.shutdown_freed_bytes_fp += w.bytes_fp;
  s.shutdown_freed_count_fp += w.count_fp;
  totals_.shutdown_freed_bytes_fp += w.bytes_fp;
  totals_.shutdown_freed_count_fp += w.count_fp;
}

void ProcessState::ApplyHello(const wire::Hello& hello) {
  has_hello_ = true;
  hello_ = hello;
  weights_ = SampleWeights(hello.sampling_interval_bytes());
}

ForkSnapshot ProcessState::SnapshotForFork() const {
  ForkSnapshot s;
  s.parent_pid = hello_.pid();
  s.modules = modules_;
  s.module_keys = module_keys_;
  s.stack_to_site = stack_to_site_;
  s.site_by_pcs = site_by_pcs_;
  s.site_pcs = site_pcs_;
  s.live.reserve(live_.size());
  live_.ForEach([&](uint64_t address, const LiveAllocation& a) {
    s.live.push_back({address, a.size, a.site});
  });
  s.mappings = mappings_.Pieces();
  return s;
}

// Before the child's own modules, stacks and events: its stack ids go on
// from the parent's. Inherited blocks are live, and marked with sequence
// number 0 (the child's own are numbered from 1), but were not allocated by
// the child: allocated_* and allocation_seq_ leave them out.
void ProcessState::Inherit(ForkSnapshot* snapshot) {
  if (!snapshot) {
    inheritance_ = Inheritance::kUnavailable;
    return;
  }
  inheritance_ = Inheritance::kInherited;
  modules_ = std::move(snapshot->modules);
  module_keys_ = std::move(snapshot->module_keys);
  stack_to_site_ = std::move(snapshot->stack_to_site);
  site_by_pcs_ = std::move(snapshot->site_by_pcs);
  site_pcs_ = std::move(snapshot->site_pcs);
  sites_.assign(site_pcs_.size(), SiteStats{});
  for (const std::vector<uint64_t>& pcs : site_pcs_) sites_bytes_ += SiteBytes(pcs.size());
  for (const ModuleInfo& m : modules_) modules_bytes_ += ModuleBytes(m.path, m.build_id);
  for (const ForkSnapshot::Block& b : snapshot->live) {
    live_.Insert(b.address, {b.size, b.site, 0});
    const SampleWeight w = weights_.For(b.size);
    SiteStats& s = sites_[b.site];
    s.live_bytes_fp += w.bytes_fp;
    s.live_count_fp += w.count_fp;
    s.live_samples += 1;
    s.live_variance += w.variance;
    s.inherited_live_bytes_fp += w.bytes_fp;
    s.inherited_live_count_fp += w.count_fp;
    totals_.inherited_bytes_fp += w.bytes_fp;
    totals_.inherited_count_fp += w.count_fp;
  }
  totals_.inherited_live_bytes_fp = totals_.live_bytes_fp = totals_.inherited_bytes_fp;
  totals_.inherited_live_count_fp = totals_.live_count_fp = totals_.inherited_count_fp;
  totals_.peak_live_bytes_fp = totals_.live_bytes_fp;
  ++peak_epoch_;
  snapshot->live.clear();
  snapshot->live.shrink_to_fit();
  mappings_.Inherit(snapshot->mappings);
  snapshot->mappings = {};
}

// Events of an inheriting child whose parent's stacks are unavailable use
// stack ids this state never saw: one site with no frames takes them.
uint32_t ProcessState::UnknownStackSite() {
  if (unknown_stack_site_ == StackIdMap::kNone) {
    unknown_stack_site_ = static_cast<uint32_t>(sites_.size());
    site_pcs_.emplace_back();
    sites_.emplace_back();
  }
  return unknown_stack_site_;
}

void ProcessState::ApplyModules(const wire::Message& m) {
  // Each message carries the complete map; keep every module ever seen so
  // stacks into a dlclose'd library still symbolize.
  for (const wire::Module& mod : m.modules()) {
    std::string key = mod.path() + '\0' + std::to_string(mod.load_bias());
    if (!module_keys_.insert(std::move(key)).second) continue;
    ModuleInfo info{mod.path(), mod.load_bias(), {}, mod.build_id()};
    for (int i = 0; i + 1 < mod.exec_ranges_size(); i += 2)
      info.exec_ranges.emplace_back(mod.exec_ranges(i), mod.exec_ranges(i + 1));
    modules_bytes_ += ModuleBytes(info.path, info.build_id) + info.exec_ranges.size() * 16;
    modules_.push_back(std::move(info));
  }
}

void ProcessState::ApplyStacks(const wire::Message& m) {
  for (const wire::Stack& s : m.stacks()) {
    const uint64_t* pcs = s.pcs().data();
    const size_t n = static_cast<size_t>(s.pcs_size());
    const uint64_t hash = SiteIndex::Hash(pcs, n);
    uint32_t site = site_by_pcs_.Find(hash, [&](uint32_t other) {
      const std::vector<uint64_t>& known = site_pcs_[other];
      return known.size() == n && std::equal(known.begin(), known.end(), pcs);
    });
    if (site == SiteIndex::kNone) {
      site = static_cast<uint32_t>(sites_.size());
      sites_bytes_ += SiteBytes(n);
      site_pcs_.emplace_back(pcs, pcs + n);
      sites_.emplace_back();
      site_by_pcs_.Insert(site, hash);
    }
    stack_to_site_.Insert(s.id(), site);
  }
}

uint32_t ProcessState::SiteOfStack(uint32_t stack_id) {
  const uint32_t site = stack_to_site_.Find(stack_id);
  // A forked child's parent stack it was not given (inheritance unavailable).
  return site == StackIdMap::kNone ? UnknownStackSite() : site;
}

void ProcessState::ApplyEvents(const wire::Events& e) {
  // Address deltas restart from 0 in each Events message.
  uint64_t address = 0;
  const int n = e.size_plus_one_size();
  const uint64_t* sizes = e.size_plus_one().data();
  const int64_t* deltas = e.address_delta().data();
  const uint32_t* stack_ids = e.stack_id().data();
  const uint64_t time_ns = e.time_ns();
  // Folded allocations (wire.proto, preload/transient_folder.h): adjustment k
  // comes before event `next_adjustment`.
  const int adjustments = e.adjust_before_delta_size();
  int k = 0;
  int entry = 0;
  uint64_t next_adjustment = adjustments ? e.adjust_before_delta(0) : UINT64_MAX;
  // A program allocates from one site many times in a row.
  uint32_t last_id = 0, last_site = StackIdMap::kNone;
  for (int i = 0;;) {
    const int run_end = next_adjustment < uint64_t(n) ? int(next_adjustment) : n;
    for (; i < run_end; ++i) {
      address += static_cast<uint64_t>(deltas[i]);
      const uint64_t size_plus_one = sizes[i];
      if (size_plus_one == 0) {
        DoFree(address);
      } else {
        const uint32_t id = *stack_ids++;
        if (id != last_id || last_site == StackIdMap::kNone) last_site = SiteOfStack(last_id = id);
        DoAllocate(address, size_plus_one - 1, last_site, time_ns);
      }
    }
    if (k == adjustments) break;
    entry = ApplyAdjustment(e, k, entry, time_ns);
    next_adjustment = ++k < adjustments ? next_adjustment + e.adjust_before_delta(k) : UINT64_MAX;
  }
  ApplyTransients(e);
}

// Folded allocations' live bytes changed since the previous adjustment: this
// is a real instant of the unfolded stream, and may be a new peak.
int ProcessState::ApplyAdjustment(const wire::Events& e, int k, int entry, uint64_t time_ns) {
  const uint32_t entries = e.adjust_entries(k);
  for (uint32_t j = 0; j < entries; ++j, ++entry) {
    SiteStats& s = sites_[SiteOfStack(e.adjust_stack_id(entry))];
    Touch(s);
    // Two's complement: a negative delta subtracts.
    const uint64_t fp = static_cast<uint64_t>(e.adjust_bytes(entry)) << kByteFracBits;
    s.live_bytes_fp += fp;
    totals_.live_bytes_fp += fp;
  }
  CheckPeak(time_ns);
  last_was_allocation_ = false;  // folded events came between the events around it
  // A folded allocation is made here next: it replaces what is still live
  // at its address (a free that was never seen), as in DoAllocate.
  if (const uint64_t address = e.adjust_address(k)) {
    if (auto replaced = live_.Erase(address)) {
      ++totals_.replaced_allocations;
      RemoveLive(*replaced, weights_.For(replaced->size));
    }
  }
  return entry;
}

// Allocations freed within their batch: what their two events would have
// added, net of their live bytes (back to zero by the end of the message).
void ProcessState::ApplyTransients(const wire::Events& e) {
  for (int k = 0; k < e.transient_stack_id_size(); ++k) {
    SiteStats& s = sites_[SiteOfStack(e.transient_stack_id(k))];
    const uint64_t count_fp = e.transient_count(k) << kCountFracBits;
    const uint64_t bytes_fp = e.transient_bytes(k) << kByteFracBits;
    s.allocated_bytes_fp += bytes_fp;
    s.allocated_count_fp += count_fp;
    s.temporary_count_fp += e.transient_temporary(k) << kCountFracBits;
    totals_.allocated_count_fp += count_fp;
    totals_.allocated_bytes_fp += bytes_fp;
    totals_.freed_count_fp += count_fp;
    totals_.events += 2 * e.transient_count(k);
    totals_.folded_allocations += e.transient_count(k);
    allocation_seq_ += e.transient_count(k);
  }
}

void ProcessState::ApplyMapEvents(const wire::Message& m) {
  for (const wire::MapEvent& e : m.map_events()) {
    switch (e.kind()) {
      case wire::MapEvent::MAP:
        mappings_.Map(e.address(), e.length(), SiteOfStack(e.stack_id()));
        break;
      case wire::MapEvent::UNMAP:
        mappings_.Unmap(e.address(), e.length());
        break;
      case wire::MapEvent::REMAP_BEGIN:
        mappings_.BeginRemap(e.address(), e.length(), e.keep_old());
        break;
      case wire::MapEvent::REMAP_END:
        mappings_.EndRemap(e.address(), e.new_address(), e.length());
        break;
      default:  // refused by the decoder
        break;
    }
  }
}

void ProcessState::ApplyStats(const wire::Stats& s) {
  stats_.dropped_events = std::max(stats_.dropped_events, s.dropped_events());
  stats_.reentrant_events = std::max(stats_.reentrant_events, s.reentrant_events());
  stats_.threads_seen = std::max(stats_.threads_seen, s.threads_seen());
  stats_.rss_bytes = s.rss_bytes();
  if (s.has_memory()) {
    stats_.has_memory = true;
    stats_.memory = s.memory();
    stats_.memory_time_ns = s.time_ns();
  }
}

// Before a site changes, if the process peaked since its last change, its
// current value is its value at that peak: save it. O(1) per event instead of
// copying every site at every new peak.
LS_HOT void ProcessState::Touch(SiteStats& s) {
  if (s.peak_epoch != peak_epoch_) {
    s.at_peak_bytes_fp = s.live_bytes_fp;
    s.peak_epoch = peak_epoch_;
  }
}

LS_HOT void ProcessState::CheckPeak(uint64_t time_ns) {
  if (totals_.live_bytes_fp > totals_.peak_live_bytes_fp) {
    totals_.peak_live_bytes_fp = totals_.live_bytes_fp;
    totals_.peak_time_ns = time_ns;
    ++peak_epoch_;
  }
}

SiteStats ProcessState::site(size_t index) const {
  SiteStats s = sites_[index];
  if (s.peak_epoch != peak_epoch_) s.at_peak_bytes_fp = s.live_bytes_fp;
  return s;
}

LS_HOT void ProcessState::DoAllocate(uint64_t address, uint64_t size, uint32_t site,
                                     uint64_t time_ns) {
  ++totals_.events;
  if (auto replaced = live_.Insert(address, {size, site, ++allocation_seq_})) {
    ++totals_.replaced_allocations;
    RemoveLive(*replaced, weights_.For(replaced->size));
  }
  const SampleWeight w = weights_.For(size);
  SiteStats& s = sites_[site];
  Touch(s);
  s.live_bytes_fp += w.bytes_fp;
  s.live_count_fp += w.count_fp;
  s.allocated_bytes_fp += w.bytes_fp;
  s.allocated_count_fp += w.count_fp;
  s.live_samples += 1;
  if (!weights_.exact()) s.live_variance += w.variance;  // always 0 when exact
  totals_.allocated_count_fp += w.count_fp;
  totals_.allocated_bytes_fp += w.bytes_fp;
  totals_.live_bytes_fp += w.bytes_fp;
  totals_.live_count_fp += w.count_fp;
  CheckPeak(time_ns);
  last_was_allocation_ = true;
  last_address_ = address;
}

LS_HOT void ProcessState::DoFree(uint64_t address) {
  ++totals_.events;
  const bool follows_its_allocation = last_was_allocation_ && last_address_ == address;
  last_was_allocation_ = false;
  auto a = live_.Erase(address);
  if (!a) {
    ++totals_.unmatched_frees;
    return;
  }
  const SampleWeight w = weights_.For(a->size);
  RemoveLive(*a, w);
  totals_.freed_count_fp += w.count_fp;
  if (__builtin_expect(a->seq < held_below_seq_, 0)) CountShutdownFree(a->site, w);
  // Sampled: the events between two sampled ones are not seen, so "freed
  // before the thread allocated again" cannot be told (viewer: not shown).
  if (follows_its_allocation && weights_.exact()) sites_[a->site].temporary_count_fp += w.count_fp;
}

LS_HOT void ProcessState::RemoveLive(const LiveAllocation& a, const SampleWeight& w) {
  SiteStats& s = sites_[a.site];
  Touch(s);
  s.live_bytes_fp -= w.bytes_fp;
  s.live_count_fp -= w.count_fp;
  s.live_samples -= 1;
  // Doubles do not cancel exactly; with no live sample the sum is 0 by definition.
  if (!weights_.exact())
    s.live_variance = s.live_samples == 0 ? 0 : std::max(0.0, s.live_variance - w.variance);
  totals_.live_bytes_fp -= w.bytes_fp;
  totals_.live_count_fp -= w.count_fp;
  if (a.seq == 0) {  // inherited (see Inherit)
    s.inherited_live_bytes_fp -= w.bytes_fp;
    s.inherited_live_count_fp -= w.count_fp;
    totals_.inherited_live_bytes_fp -= w.bytes_fp;
    totals_.inherited_live_count_fp -= w.count_fp;
  }
}

void ProcessState::Allocate(uint64_t address, uint64_t size, uint32_t site, uint64_t time_ns) {
  DoAllocate(address, size, site, time_ns);
}

void ProcessState::Free(uint64_t address) {
  DoFree(address);
}

}  // namespace leakscope::collector
