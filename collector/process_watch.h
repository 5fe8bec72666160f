// What the daemon keeps per stream besides its ProcessState: the timeline,
// a symbol cache that lives as long as the stream (so the second and later
// snapshots of a big process only symbolize new stacks), the memory budget,
// and the process's snapshots on disk.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "labels.h"
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

  // At the stream's hello: the process's own labels (LEAKSCOPE_LABELS) and
  // its container, from /proc/<peer_pid>/cgroup (peer_pid: SO_PEERCRED, the
  // pid in the daemon's namespace; 0 = unknown). One log line for labels
  // left out.
  void NoteHello(const wire::Hello& hello, uint32_t peer_pid);
  const std::vector<Label>& labels() const { return labels_; }
  const std::string& container() const { return container_; }

  // Snapshot bookkeeping, for the server.
  uint64_t last_snapshot_mono_ns = 0;  // 0: none yet
  uint64_t last_snapshot_unix_ns = 0;  // of one written; 0: none yet
  uint64_t snapshots_written = 0;
  // The latest /debug/pprof/heap profile, reused for a second.
  std::shared_ptr<const std::string> profile_gzip;
  uint64_t profile_mono_ns = 0;
  bool dumped_above = false;          // --dump-above already fired
  std::deque<std::string> snapshots;  // paths on disk, oldest first

 private:
  void SyncModules(const ProcessState& state);

  uint64_t max_live_allocations_ = 0;
  bool prewarm_symbols_ = false;
  std::vector<uint64_t> prewarm_pcs_;  // reused
  std::string budget_error_;
  Timeline timeline_;
  Symbolizer symbolizer_;
  size_t modules_added_ = 0;
  std::vector<Label> labels_;
  std::string container_;
};

}  // namespace leakscope::collector
