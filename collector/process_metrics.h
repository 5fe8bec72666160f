// One open stream's figures for /metrics (see metrics_text.h): totals, rates
// from the timeline's latest interval, and the largest sites labelled by
// their call site and site id (proto/call_site.h), as the reports name them.
#pragma once

#include "metrics_text.h"
#include "process_state.h"
#include "process_watch.h"

namespace leakscope::collector {

// The process's service: its own `service` label, the daemon's, or the
// executable's name.
std::string ServiceOf(const ProcessState& state, const ProcessWatch& watch,
                      const std::vector<Label>& daemon_labels);

// daemon_labels: --label, under the process's own labels of the same name.
ProcessMetrics CollectMetrics(const ProcessState& state, ProcessWatch* watch, size_t top_sites,
                              const std::vector<Label>& daemon_labels = {});

}  // namespace leakscope::collector
