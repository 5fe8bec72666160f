// What leakscoped's HTTP port (--metrics ADDR:PORT) answers, read-only and
// GET only: /metrics, and Go-style pull endpoints for fleet profilers (`go
// tool pprof`, Parca, Grafana Alloy's pyroscope.scrape):
//   /debug/pprof/heap?pid=N     the process's live heap as a gzipped pprof
//   /debug/pprof/heap?service=S   profile (proto/pprof_profile.h), as Go's
//   /debug/pprof/heap             net/http/pprof serves it; service: the
//                                 newest process of that service; neither:
//                                 the only process traced
//   /debug/pprof/processes      the processes, JSON
//   /debug/pprof/               an HTML index linking each one's profile
// A profile is built on the event loop (the symbol cache keeps it cheap) and
// reused for a second: scrapes cannot make the loop build more than one per
// process per second.
#pragma once

#include <string>
#include <vector>

#include "metrics_http.h"
#include "metrics_text.h"

namespace leakscope::collector {

class Server;

MetricsHttpServer::Handler DaemonHttpHandler(Server* server);

// The processes as /debug/pprof/processes and /debug/pprof/ show them.
std::string ProcessesJson(const std::vector<ProcessMetrics>& processes);
std::string PprofIndexHtml(const std::vector<ProcessMetrics>& processes);

}  // namespace leakscope::collector
