#include "metrics_text.h"

#include <cstdio>
#include <functional>

namespace leakscope::collector {
namespace {

struct Family {
  const char* name;
  const char* type;
  const char* help;
  std::function<double(const ProcessMetrics&)> value;
};

std::string Number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string ProcessLabels(const ProcessMetrics& p) {
  return "pid=\"" + std::to_string(p.pid) + "\",exe=\"" + EscapeLabel(p.exe) + "\"";
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
  };
  return families;
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

std::string RenderMetrics(const std::vector<ProcessMetrics>& processes) {
  std::string out =
      "# HELP leakscope_processes Traced processes connected now.\n"
      "# TYPE leakscope_processes gauge\n"
      "leakscope_processes " +
      std::to_string(processes.size()) + "\n";
  for (const Family& f : Families()) {
    out +=
        std::string("# HELP ") + f.name + " " + f.help + "\n# TYPE " + f.name + " " + f.type + "\n";
    for (const ProcessMetrics& p : processes)
      out += std::string(f.name) + "{" + ProcessLabels(p) + "} " + Number(f.value(p)) + "\n";
  }
  out +=
      "# HELP leakscope_site_live_bytes Live bytes of the largest allocation sites.\n"
      "# TYPE leakscope_site_live_bytes gauge\n";
  for (const ProcessMetrics& p : processes)
    for (const SiteMetric& s : p.top_sites)
      out += "leakscope_site_live_bytes{" + ProcessLabels(p) + ",site=\"" + EscapeLabel(s.site) +
             "\",site_id=\"" + EscapeLabel(s.site_id) + "\"} " + std::to_string(s.live_bytes) +
             "\n";
  return out;
}

}  // namespace leakscope::collector
