#include "metrics_text.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>

namespace leakscope::collector {
namespace {

struct Family {
  const char* name;
  const char* type;
  const char* help;
  std::function<double(const ProcessMetrics&)> value;
  bool (*present)(const ProcessMetrics&) = nullptr;  // null: always
};

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string ProcessLabels(const ProcessMetrics& p) {
  std::string out = "pid=\"" + std::to_string(p.pid) + "\",exe=\"" + EscapeLabel(p.exe) +
                    "\",service=\"" + EscapeLabel(p.service) + "\"";
  if (!p.container.empty()) out += ",container=\"" + EscapeLabel(p.container) + "\"";
  for (const Label& l : p.labels) out += "," + l.name + "=\"" + EscapeLabel(l.value) + "\"";
  return out;
}

std::string Header(const char* name, const char* type, const char* help) {
  return std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

std::string DaemonSeries(const DaemonMetrics& d, size_t processes) {
  const struct {
    const char* name;
    const char* type;
    const char* help;
    uint64_t value;
  } series[] = {
      {"leakscope_up", "gauge", "1 while leakscoped serves /metrics.", 1},
      {"leakscope_daemon_rss_bytes", "gauge", "leakscoped's own resident set size.", d.rss_bytes},
      {"leakscope_memory_budget_used_bytes", "gauge",
       "Bytes the streams hold, charged to --max-memory.", d.memory_budget_used},
      {"leakscope_streams", "gauge", "Connections open now (with or without a hello).", d.streams},
      {"leakscope_streams_total", "counter", "Connections accepted since leakscoped started.",
       d.streams_total},
      {"leakscope_processes", "gauge", "Traced processes connected now.", processes},
  };
  std::string out;
  for (const auto& s : series)
    out += Header(s.name, s.type, s.help) + s.name + " " + std::to_string(s.value) + "\n";
  return out;
}

const std::vector<Family>& Families() {
  static const std::vector<Family> families = {
      {"leakscope_live_bytes", "gauge", "Heap bytes allocated and not freed.",
       [](const ProcessMetrics& p) { return double(p.live_bytes); }},
      {"leakscope_live_allocations", "gauge", "Allocations not freed.",
       [](const ProcessMetrics& p) { return double(p.live_allocations); }},
      {"leakscope_allocations_total", "counter", "Allocations since the process started.",
       [](const ProcessMetrics& p) { return double(p.allocations); }},
      {"leakscope_frees_total", "counter", "Frees of traced allocations.",
       [](const ProcessMetrics& p) { return double(p.frees); }},
      {"leakscope_allocation_rate", "gauge", "Allocations per second, latest interval.",
       [](const ProcessMetrics& p) { return p.allocations_per_second; }},
      {"leakscope_free_rate", "gauge", "Frees per second, latest interval.",
       [](const ProcessMetrics& p) { return p.frees_per_second; }},
      {"leakscope_dropped_events_total", "counter", "Events the shim could not record.",
       [](const ProcessMetrics& p) { return double(p.dropped_events); }},
      {"leakscope_rss_bytes", "gauge", "Resident set size reported by the process.",
       [](const ProcessMetrics& p) { return double(p.rss_bytes); }},
      {"leakscope_process_start_time_seconds", "gauge",
       "Unix time the process started: a new value under the same pid is a restart.",
       [](const ProcessMetrics& p) { return p.start_time_seconds; }},
      {"leakscope_snapshots_total", "counter", "Snapshots leakscoped wrote of the process.",
       [](const ProcessMetrics& p) { return double(p.snapshots); }},
      {"leakscope_last_snapshot_timestamp_seconds", "gauge",
       "Unix time of the latest snapshot of the process (none: no series).",
       [](const ProcessMetrics& p) { return p.last_snapshot_seconds; },
       [](const ProcessMetrics& p) { return p.snapshots > 0; }},
  };
  return families;
}

// One series per top site of each process: `field` of the site.
void SiteFamily(const std::vector<ProcessMetrics>& processes, const char* name, const char* help,
                uint64_t SiteMetric::*field, std::string* out) {
  *out += Header(name, "gauge", help);
  for (const ProcessMetrics& p : processes)
    for (const SiteMetric& s : p.top_sites)
      *out += std::string(name) + "{" + ProcessLabels(p) + ",site=\"" + EscapeLabel(s.site) +
              "\",site_id=\"" + EscapeLabel(s.site_id) + "\"} " + std::to_string(s.*field) + "\n";
}

}  // namespace

std::string EscapeLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string RenderMetrics(const DaemonMetrics& daemon,
                          const std::vector<ProcessMetrics>& processes) {
  std::string out = DaemonSeries(daemon, processes.size());
  for (const Family& f : Families()) {
    out += Header(f.name, f.type, f.help);
    for (const ProcessMetrics& p : processes)
      if (!f.present || f.present(p))
        out += std::string(f.name) + "{" + ProcessLabels(p) + "} " + Number(f.value(p)) + "\n";
  }
  SiteFamily(processes, "leakscope_site_live_bytes", "Live bytes of the largest allocation sites.",
             &SiteMetric::live_bytes, &out);
  SiteFamily(processes, "leakscope_site_live_allocations",
             "Live allocations of the same sites (leakscope top sorts by it).",
             &SiteMetric::live_allocations, &out);
  return out;
}

uint64_t OwnRssBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace leakscope::collector
