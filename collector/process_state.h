// Everything the collector knows about one traced process, built from its
// decoded (and already validated) wire messages: identity, modules, stacks
// merged into sites by content, per-site and process-wide figures.
//
// Apply() is the hot path (~10M events/s on one core): per event one
// live-table lookup and a few additions, no allocation, no other hashing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "anon_mappings.h"
#include "live_table.h"
#include "reachability_scan.h"
#include "sample_weight.h"
#include "site_index.h"
#include "stack_id_map.h"
#include "symbolizer.h"
#include "wire.pb.h"

namespace leakscope::collector {

// Per allocation site (a distinct stack). Byte and count sums are fixed point
// (see sample_weight.h); in exact mode they are plain integers shifted.
struct SiteStats {
  uint64_t live_bytes_fp = 0;
  uint64_t live_count_fp = 0;
  uint64_t allocated_bytes_fp = 0;
  uint64_t allocated_count_fp = 0;
  uint64_t temporary_count_fp = 0;
  uint64_t live_samples = 0;
  double live_variance = 0;       // sum over live samples of (1-p)(s/p)^2
  uint64_t at_peak_bytes_fp = 0;  // live bytes at the process peak (see Touch)
  uint64_t peak_epoch = 0;        // process peak count when last modified
  // A forked child: the part of live_* inherited from the parent at the fork
  // (those blocks are in live_* but not in allocated_*: the parent made them).
  uint64_t inherited_live_bytes_fp = 0;
  uint64_t inherited_live_count_fp = 0;
  // Held until shutdown: live when exit began (wire.ExitMarker), freed after.
  uint64_t shutdown_freed_bytes_fp = 0;
  uint64_t shutdown_freed_count_fp = 0;
};

struct ProcessTotals {
  uint64_t allocated_count_fp = 0;
  uint64_t freed_count_fp = 0;
  uint64_t allocated_bytes_fp = 0;
  uint64_t live_bytes_fp = 0;
  uint64_t live_count_fp = 0;
  uint64_t peak_live_bytes_fp = 0;
  uint64_t peak_time_ns = 0;
  uint64_t unmatched_frees = 0;       // frees of addresses not live
  uint64_t replaced_allocations = 0;  // allocations at an address already live
  uint64_t events = 0;                // as recorded (samples, in sampled mode)
  uint64_t folded_allocations = 0;    // of those, folded by the shim (wire.Events.transient_count)
  // A forked child: live at the fork (inherited_*) and still live now
  // (inherited_live_*). Included in live_*, never in allocated_* (the parent
  // made them); the child's frees of them are in freed_count_fp.
  uint64_t inherited_bytes_fp = 0;
  uint64_t inherited_count_fp = 0;
  uint64_t inherited_live_bytes_fp = 0;
  uint64_t inherited_live_count_fp = 0;
  uint64_t shutdown_freed_bytes_fp = 0;  // see SiteStats
  uint64_t shutdown_freed_count_fp = 0;
};

// What a forked child inherits, taken from the parent's state at its
// ForkMarker: modules, every stack id (the child's shim keeps the parent's
// stack table, so it never resends them) and the live allocations.
// O(parent live allocations + stacks) in time and memory.
struct ForkSnapshot {
  struct Block {
    uint64_t address;
    uint64_t size;
    uint32_t site;
  };
  uint32_t parent_pid = 0;
  std::vector<ModuleInfo> modules;
  std::unordered_set<std::string> module_keys;
  StackIdMap stack_to_site;
  SiteIndex site_by_pcs;
  std::vector<std::vector<uint64_t>> site_pcs;
  std::vector<Block> live;
  std::vector<AnonMappings::Piece> mappings;  // anonymous mappings, by site
};

enum class Inheritance {
  kNotForked,    // not a forked child (or not known to be one)
  kInherited,    // seeded with the parent's live allocations at the fork
  kUnavailable,  // forked, but the parent's state at the fork is unknown
};

struct ProcessStats {  // from wire.Stats: counters are cumulative, keep the max
  uint64_t dropped_events = 0;
  uint64_t reentrant_events = 0;
  uint64_t rss_bytes = 0;  // the latest
  uint64_t threads_seen = 0;
  // The latest wire.MemoryStats, and the Stats time it came with.
  bool has_memory = false;
  wire::MemoryStats memory;
  uint64_t memory_time_ns = 0;
};

class ProcessState {
 public:
  ProcessState() = default;

  // `inherited`: for a forked child's Hello, what the parent had at the fork
  // (moved from); null if unavailable. Ignored for any other message.
  void Apply(const wire::Message& message, ForkSnapshot* inherited = nullptr);

  // The parent's side, at a ForkMarker (see ForkSnapshot).
  ForkSnapshot SnapshotForFork() const;
  Inheritance inheritance() const { return inheritance_; }

  bool has_hello() const { return has_hello_; }
  const wire::Hello& hello() const { return hello_; }
  bool has_goodbye() const { return has_goodbye_; }
  // The shim said exit began (wire.ExitMarker): frees from then on of blocks
  // live at that moment count as held until shutdown.
  bool exit_began() const { return held_below_seq_ != 0; }
  const wire::Goodbye& goodbye() const { return goodbye_; }
  const SampleWeights& weights() const { return weights_; }
  const std::vector<ModuleInfo>& modules() const { return modules_; }
  const ProcessTotals& totals() const { return totals_; }
  const ProcessStats& stats() const { return stats_; }
  size_t live_table_size() const { return live_.size(); }
  // The program's anonymous mappings (wire.MapEvent), by site: exact in
  // every mode (never sampled). Site indexes are those of site_pcs().
  const AnonMappings& mappings() const { return mappings_; }
  const LiveTable& live_table() const { return live_; }
  // The number of the latest allocation event (numbered from 1): a mark in
  // the stream for the in-process API (collector/query_handler.h).
  uint64_t allocation_seq() const { return allocation_seq_; }

  // What the state holds, roughly: the containers that grow with the stream
  // (live table, stack ids, sites, modules). For the daemon's memory budget.
  uint64_t MemoryBytes() const;
  // The most more it may hold, at the peak, while applying `message`.
  uint64_t GrowthBound(const wire::Message& message) const;

  // The latest reachability scan (null: none asked for). Kept aside, not
  // updated by events: its verdicts hold for blocks numbered up to its
  // scan_seq that are still live.
  const ReachabilityScan* reachability() const { return reachability_.get(); }
  void set_reachability(std::shared_ptr<const ReachabilityScan> scan) {
    reachability_ = std::move(scan);
  }

  size_t site_count() const { return sites_.size(); }
  const std::vector<uint64_t>& site_pcs(size_t site) const { return site_pcs_[site]; }
  // A copy with at_peak_bytes_fp brought up to date.
  SiteStats site(size_t site) const;

  // Hot path, public for tests and benchmarks: one event.
  void Allocate(uint64_t address, uint64_t size, uint32_t site, uint64_t time_ns);
  void Free(uint64_t address);

 private:
  void ApplyHello(const wire::Hello& hello);
  void Inherit(ForkSnapshot* snapshot);
  uint32_t UnknownStackSite();
  void ApplyModules(const wire::Message& message);
  void ApplyStacks(const wire::Message& message);
  void ApplyEvents(const wire::Events& events);
  int ApplyAdjustment(const wire::Events& events, int k, int entry, uint64_t time_ns);
  void ApplyTransients(const wire::Events& events);
  uint32_t SiteOfStack(uint32_t stack_id);
  void CheckPeak(uint64_t time_ns);
  void ApplyStats(const wire::Stats& stats);
  void ApplyMapEvents(const wire::Message& message);
  void DoAllocate(uint64_t address, uint64_t size, uint32_t site, uint64_t time_ns);
  void DoFree(uint64_t address);
  void NoteExitBegan();
  void CountShutdownFree(uint32_t site, const SampleWeight& w);
  void RemoveLive(const LiveAllocation& a, const SampleWeight& w);
  void Touch(SiteStats& s);

  bool has_hello_ = false;
  wire::Hello hello_;
  bool has_goodbye_ = false;
  wire::Goodbye goodbye_;
  SampleWeights weights_;
  std::vector<ModuleInfo> modules_;
  std::unordered_set<std::string> module_keys_;  // path + load bias
  StackIdMap stack_to_site_;
  SiteIndex site_by_pcs_;  // by the pcs in site_pcs_
  std::vector<std::vector<uint64_t>> site_pcs_;
  std::vector<SiteStats> sites_;
  uint64_t sites_bytes_ = 0;    // their pcs and map nodes (MemoryBytes)
  uint64_t modules_bytes_ = 0;  // modules_ and module_keys_ (MemoryBytes)
  LiveTable live_;
  AnonMappings mappings_;
  ProcessTotals totals_;
  ProcessStats stats_;
  uint64_t peak_epoch_ = 0;  // bumped each time live bytes reach a new peak
  uint64_t allocation_seq_ = 0;
  // From the ExitMarker on: allocations numbered below this one (inherited
  // ones are 0) were live when exit began. A number, not a copy of the live
  // table: O(1) memory, one comparison per free. 0: exit has not begun.
  uint64_t held_below_seq_ = 0;
  Inheritance inheritance_ = Inheritance::kNotForked;
  std::shared_ptr<const ReachabilityScan> reachability_;
  uint32_t unknown_stack_site_ = StackIdMap::kNone;
  // The previous event, to spot temporary allocations.
  bool last_was_allocation_ = false;
  uint64_t last_address_ = 0;
};

}  // namespace leakscope::collector
