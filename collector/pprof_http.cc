#include "pprof_http.h"

#include <cstdio>

#include "server.h"

namespace leakscope::collector {
namespace {

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

std::string HtmlText(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '&')
      out += "&amp;";
    else if (c == '"')
      out += "&quot;";
    else
      out += c;
  }
  return out;
}

HttpAnswer Profile(const ProfileResult& r) {
  if (!r.gzip) return HttpAnswer::Text(r.status, r.error + "\n");
  HttpAnswer a;
  a.content_type = "application/octet-stream";
  a.headers = {"Content-Disposition: attachment; filename=\"heap\"",
               "X-Content-Type-Options: nosniff"};
  a.body = r.gzip;
  return a;
}

// /debug/pprof/heap's parameters: pid or service; Go's debug=0 and gc only.
bool ParseHeapRequest(const HttpRequest& req, ProfileRequest* out, std::string* error) {
  const std::string pid = req.Param("pid"), debug = req.Param("debug");
  out->service = req.Param("service");
  if (!req.Param("seconds").empty()) {
    *error = "seconds: delta profiles are not served, only the live heap now";
    return false;
  }
  if (!debug.empty() && debug != "0") {
    *error = "debug=" + debug + ": only the protobuf profile (debug=0)";
    return false;
  }
  if (pid.empty()) return true;
  uint64_t n = 0;
  for (char c : pid) {
    n = n * 10 + uint64_t(c - '0');
    if (c < '0' || c > '9' || n > UINT32_MAX || pid.size() > 10) {
      *error = "pid=" + pid.substr(0, 20) + ": not a process id";
      return false;
    }
  }
  out->pid = uint32_t(n);
  return true;
}

}  // namespace

std::string ProcessesJson(const std::vector<ProcessMetrics>& processes) {
  std::string out = "[";
  for (const ProcessMetrics& p : processes) {
    out += std::string(out.size() > 1 ? ",\n" : "\n") + "{\"pid\":" + std::to_string(p.pid) +
           ",\"service\":" + JsonString(p.service) + ",\"exe\":" + JsonString(p.exe) +
           ",\"container\":" + JsonString(p.container) + ",\"labels\":{";
    for (size_t i = 0; i < p.labels.size(); ++i)
      out += (i ? "," : "") + JsonString(p.labels[i].name) + ":" + JsonString(p.labels[i].value);
    char start[32];
    std::snprintf(start, sizeof start, "%.3f", p.start_time_seconds);
    out += std::string("},\"start_time_seconds\":") + start +
           ",\"live_bytes\":" + std::to_string(p.live_bytes) +
           ",\"rss_bytes\":" + std::to_string(p.rss_bytes) +
           ",\"heap\":\"/debug/pprof/heap?pid=" + std::to_string(p.pid) + "\"}";
  }
  return out + "\n]\n";
}

std::string PprofIndexHtml(const std::vector<ProcessMetrics>& processes) {
  std::string out =
      "<html><head><title>leakscoped /debug/pprof/</title></head><body>\n"
      "<p>Live heap profiles of the traced processes (pprof, gzipped), for go tool pprof, "
      "Parca or Grafana Alloy. <a href=\"processes\">processes</a> (JSON), "
      "<a href=\"/metrics\">/metrics</a>.</p>\n<table>\n"
      "<tr><th>pid</th><th>service</th><th>live bytes</th><th>profile</th></tr>\n";
  for (const ProcessMetrics& p : processes)
    out += "<tr><td>" + std::to_string(p.pid) + "</td><td>" + HtmlText(p.service) + "</td><td>" +
           std::to_string(p.live_bytes) + "</td><td><a href=\"heap?pid=" + std::to_string(p.pid) +
           "\">heap</a></td></tr>\n";
  return out + "</table>\n</body></html>\n";
}

MetricsHttpServer::Handler DaemonHttpHandler(Server* server) {
  return [server](const HttpRequest& req, MetricsHttpServer::Reply reply) {
    if (req.path == "/metrics")
      return reply(MetricsHttpServer::MetricsAnswer(server->MetricsText()));
    if (req.path == "/debug/pprof/processes") {
      HttpAnswer a = HttpAnswer::Text("200 OK", ProcessesJson(server->Processes()));
      a.content_type = "application/json";
      return reply(a);
    }
    if (req.path == "/debug/pprof/" || req.path == "/debug/pprof") {
      HttpAnswer a = HttpAnswer::Text("200 OK", PprofIndexHtml(server->Processes()));
      a.content_type = "text/html; charset=utf-8";
      return reply(a);
    }
    if (req.path != "/debug/pprof/heap")
      return reply(HttpAnswer::Text(
          "404 Not Found", "see /metrics, /debug/pprof/heap?pid=N, /debug/pprof/processes\n"));
    ProfileRequest want;
    std::string error;
    if (!ParseHeapRequest(req, &want, &error))
      return reply(HttpAnswer::Text("400 Bad Request", error + "\n"));
    server->RequestProfile(want, [reply](const ProfileResult& r) { reply(Profile(r)); });
  };
}

}  // namespace leakscope::collector
