#include "metrics_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <vector>

#include "accept_backoff.h"

namespace leakscope::collector {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxRequest = 8192;

std::string Response(const std::string& status, const std::string& type, const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
}

// The answer to a whole request (headers ended).
std::string Answer(const std::string& request, const MetricsHttpServer::Provider& provider) {
  const std::string line = request.substr(0, request.find("\r\n"));
  const size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
  const std::string method = line.substr(0, sp1);
  std::string target = sp1 == std::string::npos ? "" : line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  if (method != "GET" && method != "HEAD")
    return Response("405 Method Not Allowed", "text/plain", "only GET\n");
  if (target != "/metrics") return Response("404 Not Found", "text/plain", "see /metrics\n");
  std::string response = Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", provider());
  if (method == "HEAD") response.erase(response.find("\r\n\r\n") + 4);
  return response;
}

struct Client {
  int fd = -1;
  Clock::time_point deadline;
  std::string request;
  std::string answer;  // non-empty once the request is whole
  size_t sent = 0;
};

// Reads what has arrived; returns false if the connection is done with
// (closed by the peer, an error, an oversized request).
bool ReadSome(Client* c, const MetricsHttpServer::Provider& provider) {
  char buf[1024];
  while (true) {
    const ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;
    c->request.append(buf, size_t(n));
    if (c->request.find("\r\n\r\n") != std::string::npos) {
      c->answer = Answer(c->request, provider);
      return true;
    }
    if (c->request.size() > kMaxRequest) return false;
  }
}

// Sends what the socket takes; false once all is sent or on error.
bool SendSome(Client* c) {
  while (c->sent < c->answer.size()) {
    const ssize_t n =
        send(c->fd, c->answer.data() + c->sent, c->answer.size() - c->sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;
    c->sent += size_t(n);
  }
  return false;
}

}  // namespace

bool ParseHostPort(const std::string& text, std::string* host, uint16_t* port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  *host = text.substr(0, colon);
  in_addr a;
  if (inet_pton(AF_INET, host->c_str(), &a) != 1) return false;
  unsigned long value = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535) return false;
  }
  *port = static_cast<uint16_t>(value);
  return true;
}

MetricsHttpServer::MetricsHttpServer(Provider provider, MetricsHttpLimits limits)
    : provider_(std::move(provider)), limits_(limits) {}

MetricsHttpServer::~MetricsHttpServer() {
  Stop();
  for (int fd : {listen_fd_, stop_pipe_[0], stop_pipe_[1]})
    if (fd >= 0) close(fd);
}

bool MetricsHttpServer::Start(const std::string& address, std::string* error) {
  std::string host;
  uint16_t port = 0;
  if (!ParseHostPort(address, &host, &port)) {
    *error = "--metrics '" + address + "': expected IPv4ADDR:PORT, e.g. 127.0.0.1:9464";
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (listen_fd_ < 0 || setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 64) != 0 || pipe2(stop_pipe_, O_CLOEXEC) != 0) {
    *error = "--metrics " + address + ": " + std::strerror(errno);
    return false;
  }
  socklen_t len = sizeof addr;
  getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Serve(); });
  return true;
}

void MetricsHttpServer::Stop() {
  if (!thread_.joinable()) return;
  const char x = 0;
  if (write(stop_pipe_[1], &x, 1) < 0) {
    // A full pipe already holds a stop request.
  }
  thread_.join();
}

void MetricsHttpServer::Serve() {
  std::deque<Client> clients;  // oldest first: deadlines in order
  AcceptBackoff backoff;       // out of descriptors: see accept_backoff.h
  std::vector<pollfd> fds;
  const auto close_client = [](Client& c) {
    close(c.fd);
    c.fd = -1;
  };
  while (true) {
    const Clock::time_point now = Clock::now();
    const uint64_t now_ns = uint64_t(
        std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count());
    if (backoff.Due(now_ns)) backoff.Resume();
    fds.assign({{stop_pipe_[0], POLLIN, 0}, {backoff.paused() ? -1 : listen_fd_, POLLIN, 0}});
    for (const Client& c : clients)
      fds.push_back({c.fd, short(c.answer.empty() ? POLLIN : POLLOUT), 0});
    int timeout_ms = backoff.paused() ? int(AcceptBackoff::kPauseNs / 1'000'000) : -1;
    if (!clients.empty()) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(clients.front().deadline - now);
      const int first = int(std::max<long>(0, long(left.count()) + 1));
      timeout_ms = timeout_ms < 0 ? first : std::min(timeout_ms, first);
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) break;
    if (fds[0].revents) break;
    for (size_t i = 0; i < clients.size(); ++i) {
      Client& c = clients[i];
      const short revents = fds[2 + i].revents;
      if (!revents) continue;
      bool open = c.answer.empty() ? ReadSome(&c, provider_) : true;
      if (open && !c.answer.empty()) open = SendSome(&c);
      if (!open) close_client(c);
    }
    const Clock::time_point after = Clock::now();
    for (Client& c : clients)
      if (c.fd >= 0 && after >= c.deadline) close_client(c);
    clients.erase(
        std::remove_if(clients.begin(), clients.end(), [](const Client& c) { return c.fd < 0; }),
        clients.end());
    if (!(fds[1].revents & POLLIN)) continue;
    while (true) {
      const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (fd < 0 && (errno == EINTR || errno == ECONNABORTED)) continue;
      if (fd < 0) {
        if (AcceptBackoff::Exhausted(errno)) {
          const std::string line = backoff.Pause(errno, now_ns, clients.size());
          if (!line.empty()) std::fprintf(stderr, "leakscoped: metrics: %s\n", line.c_str());
        }
        break;
      }
      if (clients.size() >= limits_.max_connections) {
        close(clients.front().fd);
        clients.pop_front();
      }
      clients.push_back(
          {fd, Clock::now() + std::chrono::milliseconds(limits_.timeout_ms), {}, {}, 0});
    }
  }
  for (Client& c : clients) close(c.fd);
}

}  // namespace leakscope::collector
