// What the daemon keeps per stream besides its ProcessState: the timeline,
// a symbol cache that lives as long as the stream (so the second and later
// snapshots of a big process only symbolize new stacks), the memory budget,
// and the process's snapshots on disk.
#pragma once

#include <cstdint>
#include <deque>
#include <string>

#include "process_state.h"
#include "report_builder.h"
#include "symbolizer.h"
#include "timeline.h"

namespace leakscope::collector {

class ProcessWatch {
 public:
  // 0 = no limit on the stream's live allocations.
  void set_max_live_allocations(uint64_t max) { max_live_allocations_ = max; }
  // Open the modules of the stacks as they arrive, on a thread of the
  // symbolizer's (Symbolizer::Prewarm), rather than when the report is
  // written: for `leakscope run`, whose user waits for that report.
  void set_prewarm_symbols(bool on) { prewarm_symbols_ = on; }

  // After each applied message.
  void Observe(const ProcessState& state, const wire::Message& message);
  // Non-empty once the stream went over its budget: why.
  const std::string& budget_error() const { return budget_error_; }

  // A report of the state now, symbolized through the cache; the timeline
  // gets a last point first, so the report ends at the latest data.
  report::Report Report(const ProcessState& state, ReportContext context);

  Timeline& timeline() { return timeline_; }
  const Timeline& timeline() const { return timeline_; }
  // Symbolizes through the cache (the modules seen so far).
  const std::vector<SymbolizedFrame>& Symbolize(const ProcessState& state, uint64_t pc);

  // Snapshot bookkeeping, for the server.
  uint64_t last_snapshot_mono_ns = 0;  // 0: none yet
  bool dumped_above = false;           // --dump-above already fired
  std::deque<std::string> snapshots;   // paths on disk, oldest first

 private:
  void SyncModules(const ProcessState& state);

  uint64_t max_live_allocations_ = 0;
  bool prewarm_symbols_ = false;
  std::vector<uint64_t> prewarm_pcs_;  // reused
  std::string budget_error_;
  Timeline timeline_;
  Symbolizer symbolizer_;
  size_t modules_added_ = 0;
};

}  // namespace leakscope::collector
