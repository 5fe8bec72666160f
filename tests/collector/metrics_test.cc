// /metrics: the text format, label escaping, ADDR:PORT parsing and the tiny
// HTTP server over a real loopback socket.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "metrics_http.h"
#include "metrics_text.h"

namespace leakscope::collector {
namespace {

std::string Fetch(uint16_t port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
  std::string response;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  return response;
}

TEST(MetricsText, ExactExposition) {
  ProcessMetrics p;
  p.pid = 7;
  p.exe = "/bin/a\"b";
  p.service = "a\"b";
  p.container = "3f2a9c1e0b7d";
  p.labels = {{"team", "pay"}};
  p.start_time_seconds = 1700000000.5;
  p.live_bytes = 300;
  p.live_allocations = 3;
  p.allocations = 10;
  p.frees = 7;
  p.allocations_per_second = 2.5;
  p.frees_per_second = 0.5;
  p.dropped_events = 1;
  p.rss_bytes = 4096;
  p.snapshots = 2;
  p.last_snapshot_seconds = 1700000600;
  p.top_sites = {{"Grow<...>(int) grow.cc:12", "0a1b2c3d", 200, 2}};
  DaemonMetrics d;
  d.rss_bytes = 8192;
  d.streams = 2;
  d.streams_total = 5;
  d.memory_budget_used = 1024;
  const std::string l =
      "{pid=\"7\",exe=\"/bin/a\\\"b\",service=\"a\\\"b\",container=\"3f2a9c1e0b7d\",team=\"pay\"}";
  const auto family = [&](const std::string& name, const std::string& type, const std::string& help,
                          const std::string& value) {
    return "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n" + name + l + " " +
           value + "\n";
  };
  EXPECT_EQ(
      RenderMetrics(d, {p}),
      "# HELP leakscope_up 1 while leakscoped serves /metrics.\n"
      "# TYPE leakscope_up gauge\nleakscope_up 1\n"
      "# HELP leakscope_daemon_rss_bytes leakscoped's own resident set size.\n"
      "# TYPE leakscope_daemon_rss_bytes gauge\nleakscope_daemon_rss_bytes 8192\n"
      "# HELP leakscope_memory_budget_used_bytes Bytes the streams hold, charged to "
      "--max-memory.\n"
      "# TYPE leakscope_memory_budget_used_bytes gauge\nleakscope_memory_budget_used_bytes 1024\n"
      "# HELP leakscope_streams Connections open now (with or without a hello).\n"
      "# TYPE leakscope_streams gauge\nleakscope_streams 2\n"
      "# HELP leakscope_streams_total Connections accepted since leakscoped started.\n"
      "# TYPE leakscope_streams_total counter\nleakscope_streams_total 5\n"
      "# HELP leakscope_processes Traced processes connected now.\n"
      "# TYPE leakscope_processes gauge\nleakscope_processes 1\n" +
          family("leakscope_live_bytes", "gauge", "Heap bytes allocated and not freed.", "300") +
          family("leakscope_live_allocations", "gauge", "Allocations not freed.", "3") +
          family("leakscope_allocations_total", "counter", "Allocations since the process started.",
                 "10") +
          family("leakscope_frees_total", "counter", "Frees of traced allocations.", "7") +
          family("leakscope_allocation_rate", "gauge", "Allocations per second, latest interval.",
                 "2.5") +
          family("leakscope_free_rate", "gauge", "Frees per second, latest interval.", "0.5") +
          family("leakscope_dropped_events_total", "counter", "Events the shim could not record.",
                 "1") +
          family("leakscope_rss_bytes", "gauge", "Resident set size reported by the process.",
                 "4096") +
          family("leakscope_process_start_time_seconds", "gauge",
                 "Unix time the process started: a new value under the same pid is a restart.",
                 "1700000000.5") +
          family("leakscope_snapshots_total", "counter",
                 "Snapshots leakscoped wrote of the process.", "2") +
          family("leakscope_last_snapshot_timestamp_seconds", "gauge",
                 "Unix time of the latest snapshot of the process (none: no series).",
                 "1700000600") +
          "# HELP leakscope_site_live_bytes Live bytes of the largest allocation sites.\n"
          "# TYPE leakscope_site_live_bytes gauge\n"
          "leakscope_site_live_bytes" +
          l.substr(0, l.size() - 1) +
          ",site=\"Grow<...>(int) grow.cc:12\",site_id=\"0a1b2c3d\"} 200\n"
          "# HELP leakscope_site_live_allocations Live allocations of the same sites (leakscope "
          "top "
          "sorts by it).\n"
          "# TYPE leakscope_site_live_allocations gauge\n"
          "leakscope_site_live_allocations" +
          l.substr(0, l.size() - 1) +
          ",site=\"Grow<...>(int) grow.cc:12\",site_id=\"0a1b2c3d\"} 2\n");
}

TEST(MetricsText, NoContainerNoSnapshotNoSeries) {
  ProcessMetrics p;
  p.pid = 1;
  p.exe = "/srv/api";
  p.service = "api";
  const std::string text = RenderMetrics({}, {p});
  EXPECT_NE(text.find("leakscope_live_bytes{pid=\"1\",exe=\"/srv/api\",service=\"api\"} 0\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("leakscope_last_snapshot_timestamp_seconds{"), std::string::npos) << text;
  EXPECT_NE(text.find("leakscope_snapshots_total{pid=\"1\",exe=\"/srv/api\",service=\"api\"} 0\n"),
            std::string::npos);
}

TEST(MetricsText, EscapesLabels) {
  EXPECT_EQ(EscapeLabel("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
}

TEST(MetricsHttp, ParsesHostPort) {
  std::string host;
  uint16_t port = 0;
  EXPECT_TRUE(ParseHostPort("127.0.0.1:9464", &host, &port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 9464);
  for (const char* bad : {"", "9464", ":9464", "127.0.0.1:", "127.0.0.1:65536", "localhost:80",
                          "127.0.0.1:8a", "1.2.3:4"})
    EXPECT_FALSE(ParseHostPort(bad, &host, &port)) << bad;
}

TEST(MetricsHttp, ServesMetricsAnd404AndSurvivesGarbage) {
  MetricsHttpServer server([] { return std::string("x 1\n"); });
  std::string error;
  ASSERT_TRUE(server.Start("127.0.0.1:0", &error)) << error;
  ASSERT_NE(server.port(), 0);
  EXPECT_EQ(Fetch(server.port(), "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
            "Content-Length: 4\r\nConnection: close\r\n\r\nx 1\n");
  EXPECT_EQ(Fetch(server.port(), "GET / HTTP/1.1\r\n\r\n").rfind("HTTP/1.1 404 Not Found\r\n", 0),
            0u);
  EXPECT_EQ(Fetch(server.port(), "POST /metrics HTTP/1.1\r\n\r\n")
                .rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0),
            0u);
  // A request that never ends its headers, and an oversized one: no answer, no crash.
  EXPECT_EQ(Fetch(server.port(), std::string(10000, 'a')), "");
  EXPECT_EQ(Fetch(server.port(), "GET /metrics?x=1 HTTP/1.0\r\n\r\n").find("\r\n\r\nx 1\n") !=
                std::string::npos,
            true);
  server.Stop();
}

// A handler that answers later (a profile built on the event loop) holds
// only its own connection: /metrics is answered meanwhile, and the late
// answer then goes out.
TEST(MetricsHttp, LateAnswerDoesNotHoldOthersBack) {
  std::mutex mu;
  MetricsHttpServer::Reply held;
  std::condition_variable got;
  MetricsHttpServer server(
      [&](const HttpRequest& req, MetricsHttpServer::Reply reply) {
        if (req.path == "/metrics") return reply(MetricsHttpServer::MetricsAnswer("x 1\n"));
        std::lock_guard<std::mutex> lock(mu);
        held = std::move(reply);
        got.notify_all();
      },
      MetricsHttpLimits{});
  std::string error;
  ASSERT_TRUE(server.Start("127.0.0.1:0", &error)) << error;
  std::string late;
  std::thread slow([&] { late = Fetch(server.port(), "GET /slow HTTP/1.0\r\n\r\n"); });
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(got.wait_for(lock, std::chrono::seconds(10), [&] { return bool(held); }));
  }
  EXPECT_NE(Fetch(server.port(), "GET /metrics HTTP/1.0\r\n\r\n").find("\r\n\r\nx 1\n"),
            std::string::npos);
  std::thread([r = held] { r(HttpAnswer::Text("200 OK", "late\n")); }).join();
  slow.join();
  EXPECT_EQ(late,
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
            "5\r\nConnection: close\r\n\r\nlate\n");
}

// HEAD: the headers GET would have, no body.
TEST(MetricsHttp, AnswersOverTheCapAre503AndHeadHasNoBody) {
  MetricsHttpLimits limits;
  limits.max_response_bytes = 8;
  MetricsHttpServer server(
      [](const HttpRequest& req, MetricsHttpServer::Reply reply) {
        reply(HttpAnswer::Text("200 OK", req.path == "/big" ? "123456789" : "12345678"));
      },
      limits);
  std::string error;
  ASSERT_TRUE(server.Start("127.0.0.1:0", &error)) << error;
  EXPECT_EQ(Fetch(server.port(), "GET /big HTTP/1.0\r\n\r\n"),
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; "
            "charset=utf-8\r\nContent-Length: 52\r\nConnection: close\r\n\r\nanswer of 9 "
            "bytes, over leakscoped's cap of 8 bytes\n");
  EXPECT_EQ(Fetch(server.port(), "GET /small HTTP/1.0\r\n\r\n").substr(0, 15), "HTTP/1.1 200 OK");
  EXPECT_EQ(Fetch(server.port(), "HEAD /small HTTP/1.0\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
            "8\r\nConnection: close\r\n\r\n");
}

TEST(MetricsHttp, QueryParameters) {
  HttpRequest r;
  r.query = "pid=42&service=my%20svc&flag&x=a+b";
  EXPECT_EQ(r.Param("pid"), "42");
  EXPECT_EQ(r.Param("service"), "my svc");
  EXPECT_EQ(r.Param("x"), "a b");
  EXPECT_EQ(r.Param("flag"), "");
  EXPECT_EQ(r.Param("missing"), "");
}

TEST(MetricsHttp, BadAddressIsAOneLineError) {
  MetricsHttpServer server([] { return std::string(); });
  std::string error;
  EXPECT_FALSE(server.Start("nowhere", &error));
  EXPECT_EQ(error, "--metrics 'nowhere': expected IPv4ADDR:PORT, e.g. 127.0.0.1:9464");
}

}  // namespace
}  // namespace leakscope::collector
