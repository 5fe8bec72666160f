// /metrics serves concurrently, each connection with its own timeout: before,
// one connection at a time was read for up to 2 s, so 30 connections that
// never finished their request held a real Prometheus scrape back 37.8 s.
// Connections are bounded too: at the maximum (64) a new one replaces the
// oldest.
#include <arpa/inet.h>
#include <dirent.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "logged_daemon.h"

namespace leakscope::security {
namespace {

using namespace std::chrono_literals;

// A connection to 127.0.0.1:port whose reads give up after `timeout_s`.
int Connect(uint16_t port, int timeout_s) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const timeval tv{timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Everything until the server closes, or "" if a read times out first.
std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = recv(fd, buf, sizeof buf, 0)) != 0;) {
    if (n < 0) return "";
    out.append(buf, size_t(n));
  }
  return out;
}

uint16_t MetricsPort(LoggedDaemon& daemon) {
  const std::string prefix = "metrics on http://127.0.0.1:";
  if (!daemon.WaitForLog(prefix, 30s)) return 0;
  const std::string log = daemon.log();
  const size_t at = log.find(prefix);
  return at == std::string::npos ? 0 : uint16_t(std::stoi(log.substr(at + prefix.size())));
}

size_t OpenFds(pid_t pid) {
  size_t n = 0;
  if (DIR* d = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str())) {
    while (readdir(d)) ++n;
    closedir(d);
  }
  return n - 2;  // . and ..
}

TEST(MetricsConcurrency, ThirtyUnfinishedRequestsDoNotDelayAScrape) {
  LoggedDaemon daemon({"--metrics", "127.0.0.1:0"});
  ASSERT_TRUE(daemon.ok()) << daemon.log();
  const uint16_t port = MetricsPort(daemon);
  ASSERT_NE(port, 0) << daemon.log();
  std::vector<int> idle;
  for (int i = 0; i < 30; ++i) {
    const int fd = Connect(port, 60);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(send(fd, "GET /metr", 9, MSG_NOSIGNAL), 9);  // and never the rest
    idle.push_back(fd);
  }
  // The scrape gives up after 10 s: 5 times the per-connection timeout, so a
  // loaded machine does not fail it, and far below the 60 s that serving the
  // 30 one after the other takes (30 x 2 s).
  const auto start = std::chrono::steady_clock::now();
  const int scrape = Connect(port, 10);
  ASSERT_GE(scrape, 0);
  const std::string request = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(send(scrape, request.data(), request.size(), MSG_NOSIGNAL), ssize_t(request.size()));
  const std::string answer = ReadAll(scrape);
  close(scrape);
  std::printf("scrape behind 30 unfinished requests: %lld ms (a figure, not a bound)\n",
              static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count()));
  EXPECT_EQ(answer.substr(0, answer.find("\r\n")), "HTTP/1.1 200 OK");
  // The 30, still held by us, are closed by the server after their timeout.
  for (int fd : idle) {
    EXPECT_EQ(ReadAll(fd), "");
    char c;
    EXPECT_EQ(recv(fd, &c, 1, 0), 0) << "not closed by the server";
    close(fd);
  }
}

TEST(MetricsConcurrency, ConnectionsAreBounded) {
  LoggedDaemon daemon({"--metrics", "127.0.0.1:0"});
  ASSERT_TRUE(daemon.ok()) << daemon.log();
  const uint16_t port = MetricsPort(daemon);
  ASSERT_NE(port, 0) << daemon.log();
  const size_t before = OpenFds(daemon.pid());
  std::vector<int> idle;
  for (int i = 0; i < 100; ++i) {
    const int fd = Connect(port, 60);
    ASSERT_GE(fd, 0);
    idle.push_back(fd);
  }
  // A scrape after them is answered: the server has taken every connection
  // before it from its queue by then, and holds at most 64 of them.
  const int scrape = Connect(port, 10);
  ASSERT_GE(scrape, 0);
  const std::string request = "GET /metrics HTTP/1.1\r\n\r\n";
  ASSERT_EQ(send(scrape, request.data(), request.size(), MSG_NOSIGNAL), ssize_t(request.size()));
  const std::string answer = ReadAll(scrape);
  EXPECT_EQ(answer.substr(0, answer.find("\r\n")), "HTTP/1.1 200 OK");
  EXPECT_LE(OpenFds(daemon.pid()), before + 64);
  close(scrape);
  for (int fd : idle) close(fd);
}

}  // namespace
}  // namespace leakscope::security
