// What `leakscope top` shows, read from a collector's Prometheus /metrics
// (leakscoped --metrics, or leakscope run --metrics): per traced process its
// live heap, live allocations and RSS, and its largest sites' live bytes and
// allocations. The endpoint is the cheap way in: the collector renders the
// text on its own tick anyway (every 250 ms), a scrape only copies it, on the
// HTTP server's own thread; the socket's event loop is never asked for
// anything, and the port is read-only.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace leakscope::viewer {

struct LiveSite {
  std::string site_id;
  std::string site;  // call site, "function file:line"
  uint64_t live_bytes = 0;
  uint64_t live_allocations = 0;
};

struct LiveProcess {
  uint32_t pid = 0;
  std::string exe;
  uint64_t live_bytes = 0;
  uint64_t live_allocations = 0;
  uint64_t rss_bytes = 0;
  std::vector<LiveSite> sites;  // in the order of the exposition
};

// Processes by pid. Series it does not know, comments and lines it cannot
// read are skipped: labels may be added to the series without breaking it.
std::map<uint32_t, LiveProcess> ParseLiveMetrics(const std::string& text);

// "HOST:PORT", "http://HOST:PORT" or "http://HOST:PORT/metrics" into host
// and port (path /metrics). False if it is none of these.
bool ParseMetricsAddress(const std::string& address, std::string* host, std::string* port);

// GET http://host:port/metrics within timeout_ms; the body, or false and a
// one-line *error.
bool FetchMetrics(const std::string& host, const std::string& port, int timeout_ms,
                  std::string* body, std::string* error);

}  // namespace leakscope::viewer
