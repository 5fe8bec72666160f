// The Prometheus text exposition format (version 0.0.4) of what the daemon
// knows about the processes it serves now. Label cardinality is bounded: one
// set of series per open stream, plus at most top_sites site series each,
// labelled by the site's call site ("function file:line", proto/call_site.h)
// and its site id, the id `leakscope report` shows on the site's row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "labels.h"

namespace leakscope::collector {

struct SiteMetric {
  std::string site;     // call site: "function file:line" (callsite::Label)
  std::string site_id;  // callsite::SiteId
  uint64_t live_bytes = 0;
  uint64_t live_allocations = 0;
};

// Every process series is labelled pid, exe, service, container (when in
// one) and the extra labels (labels.h): what survives a restart, not only pid.
struct ProcessMetrics {
  uint32_t pid = 0;
  std::string exe;
  std::string service;               // ServiceName(exe), or the process's own `service` label
  std::string container;             // "" when not in a container
  std::vector<Label> labels;         // extra labels, sorted by name
  double start_time_seconds = 0;     // unix time the process (this image) started
  uint64_t snapshots = 0;            // cumulative, written by the daemon
  double last_snapshot_seconds = 0;  // unix time of the latest; 0: none yet
  uint64_t live_bytes = 0;
  uint64_t live_allocations = 0;
  uint64_t allocations = 0;           // cumulative
  uint64_t frees = 0;                 // cumulative
  double allocations_per_second = 0;  // over the latest timeline interval
  double frees_per_second = 0;
  uint64_t dropped_events = 0;
  uint64_t rss_bytes = 0;
  std::vector<SiteMetric> top_sites;  // largest first
};

// The daemon's own figures.
struct DaemonMetrics {
  uint64_t rss_bytes = 0;           // leakscoped's resident set
  uint64_t streams = 0;             // connections open now, with or without a hello
  uint64_t streams_total = 0;       // accepted since the daemon started
  uint64_t memory_budget_used = 0;  // bytes charged to --max-memory now
};

std::string RenderMetrics(const DaemonMetrics& daemon,
                          const std::vector<ProcessMetrics>& processes);

// The daemon's resident set from /proc/self/statm (0 if unreadable).
uint64_t OwnRssBytes();

// A label value escaped for the text format: \\, \" and \n.
std::string EscapeLabel(const std::string& value);

}  // namespace leakscope::collector
