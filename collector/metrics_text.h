// The Prometheus text exposition format (version 0.0.4) of what the daemon
// knows about the processes it serves now. Label cardinality is bounded: one
// set of series per open stream, plus at most top_sites site series each,
// labelled by the site's call site ("function file:line", proto/call_site.h)
// and its site id, the id `leakscope report` shows on the site's row.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace leakscope::collector {

struct SiteMetric {
  std::string site;     // call site: "function file:line" (callsite::Label)
  std::string site_id;  // callsite::SiteId
  uint64_t live_bytes = 0;
};

struct ProcessMetrics {
  uint32_t pid = 0;
  std::string exe;
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

std::string RenderMetrics(const std::vector<ProcessMetrics>& processes);

// A label value escaped for the text format: \\, \" and \n.
std::string EscapeLabel(const std::string& value);

}  // namespace leakscope::collector
