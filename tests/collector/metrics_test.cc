// /metrics: the text format, label escaping, ADDR:PORT parsing and the tiny
// HTTP server over a real loopback socket.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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
  p.live_bytes = 300;
  p.live_allocations = 3;
  p.allocations = 10;
  p.frees = 7;
  p.allocations_per_second = 2.5;
  p.frees_per_second = 0.5;
  p.dropped_events = 1;
  p.rss_bytes = 4096;
  p.top_sites = {{"Grow<...>(int) grow.cc:12", "0a1b2c3d", 200}};
  const std::string l = "{pid=\"7\",exe=\"/bin/a\\\"b\"}";
  EXPECT_EQ(RenderMetrics({p}),
            "# HELP leakscope_processes Traced processes connected now.\n"
            "# TYPE leakscope_processes gauge\nleakscope_processes 1\n"
            "# HELP leakscope_live_bytes Heap bytes allocated and not freed.\n"
            "# TYPE leakscope_live_bytes gauge\nleakscope_live_bytes" +
                l +
                " 300\n"
                "# HELP leakscope_live_allocations Allocations not freed.\n"
                "# TYPE leakscope_live_allocations gauge\nleakscope_live_allocations" +
                l +
                " 3\n"
                "# HELP leakscope_allocations_total Allocations since the process started.\n"
                "# TYPE leakscope_allocations_total counter\nleakscope_allocations_total" +
                l +
                " 10\n"
                "# HELP leakscope_frees_total Frees of traced allocations.\n"
                "# TYPE leakscope_frees_total counter\nleakscope_frees_total" +
                l +
                " 7\n"
                "# HELP leakscope_allocation_rate Allocations per second, latest interval.\n"
                "# TYPE leakscope_allocation_rate gauge\nleakscope_allocation_rate" +
                l +
                " 2.5\n"
                "# HELP leakscope_free_rate Frees per second, latest interval.\n"
                "# TYPE leakscope_free_rate gauge\nleakscope_free_rate" +
                l +
                " 0.5\n"
                "# HELP leakscope_dropped_events_total Events the shim could not record.\n"
                "# TYPE leakscope_dropped_events_total counter\nleakscope_dropped_events_total" +
                l +
                " 1\n"
                "# HELP leakscope_rss_bytes Resident set size reported by the process.\n"
                "# TYPE leakscope_rss_bytes gauge\nleakscope_rss_bytes" +
                l +
                " 4096\n"
                "# HELP leakscope_site_live_bytes Live bytes of the largest allocation sites.\n"
                "# TYPE leakscope_site_live_bytes gauge\n"
                "leakscope_site_live_bytes{pid=\"7\",exe=\"/bin/a\\\"b\",site=\"Grow<...>(int) "
                "grow.cc:12\",site_id=\"0a1b2c3d\"} 200\n");
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

TEST(MetricsHttp, BadAddressIsAOneLineError) {
  MetricsHttpServer server([] { return std::string(); });
  std::string error;
  EXPECT_FALSE(server.Start("nowhere", &error));
  EXPECT_EQ(error, "--metrics 'nowhere': expected IPv4ADDR:PORT, e.g. 127.0.0.1:9464");
}

}  // namespace
}  // namespace leakscope::collector
