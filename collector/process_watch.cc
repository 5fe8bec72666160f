#include "process_watch.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace leakscope::collector {

void ProcessWatch::NoteHello(const wire::Hello& hello, uint32_t peer_pid) {
  std::string dropped;
  labels_ = ParseProcessLabels(hello.labels(), &dropped);
  if (!dropped.empty())
    std::fprintf(stderr, "leakscoped: pid %u: LEAKSCOPE_LABELS left out: %s\n", hello.pid(),
                 dropped.c_str());
  if (peer_pid == 0) return;
  std::ifstream cgroup("/proc/" + std::to_string(peer_pid) + "/cgroup");
  std::ostringstream text;
  text << cgroup.rdbuf();
  container_ = ContainerFromCgroup(text.str());
}

void ProcessWatch::Observe(const ProcessState& state, const wire::Message& message) {
  timeline_.Observe(state, message);
  if (max_live_allocations_ != 0 && budget_error_.empty() &&
      state.live_table_size() > max_live_allocations_)
    budget_error_ =
        "more than " + std::to_string(max_live_allocations_) + " live allocations (memory budget)";
  if (prewarm_symbols_ && message.stacks_size() > 0) {
    SyncModules(state);
    prewarm_pcs_.clear();
    for (const wire::Stack& s : message.stacks())
      prewarm_pcs_.insert(prewarm_pcs_.end(), s.pcs().begin(), s.pcs().end());
    symbolizer_.Prewarm(prewarm_pcs_.data(), prewarm_pcs_.size());
  }
}

void ProcessWatch::SyncModules(const ProcessState& state) {
  // modules() only grows: add what is new since last time.
  for (; modules_added_ < state.modules().size(); ++modules_added_)
    symbolizer_.AddModule(state.modules()[modules_added_]);
}

const std::vector<SymbolizedFrame>& ProcessWatch::Symbolize(const ProcessState& state,
                                                            uint64_t pc) {
  SyncModules(state);
  return symbolizer_.Symbolize(pc);
}

report::Report ProcessWatch::Report(const ProcessState& state, ReportContext context) {
  const uint64_t now = timeline_.last_time_ns();
  if (now != 0 && (timeline_.points().empty() || timeline_.points().back().time_ns < now))
    timeline_.Sample(state, now);
  context.timeline = &timeline_;
  return BuildReport(state, context, [&](uint64_t pc) -> const std::vector<SymbolizedFrame>& {
    return Symbolize(state, pc);
  });
}

}  // namespace leakscope::collector
