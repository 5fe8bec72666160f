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
#include <mutex>
#include <vector>

#include "accept_backoff.h"

namespace leakscope::collector {

// Late answers write a byte here; the server thread polls the other end.
// Shared with the replies, so a reply that outlives the server writes to a
// pipe still open, never to a descriptor number since reused.
struct MetricsHttpServer::Wake {
  int fds[2] = {-1, -1};
  Wake() {
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) fds[0] = fds[1] = -1;
  }
  ~Wake() {
    for (int fd : fds)
      if (fd >= 0) close(fd);
  }
  void Signal() const {
    const char x = 0;
    if (fds[1] >= 0 && write(fds[1], &x, 1) < 0) {
      // Full: a wake-up is pending already.
    }
  }
  void Drain() const {
    char buf[256];
    while (read(fds[0], buf, sizeof buf) > 0) {
    }
  }
};

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kMaxRequest = 8192;

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Decode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && Hex(text[i + 1]) >= 0 &&
               Hex(text[i + 2]) >= 0) {
      out += char(Hex(text[i + 1]) * 16 + Hex(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

// A request's answer, given now or later by the handler.
struct Pending {
  std::mutex mu;
  bool ready = false;
  HttpAnswer answer;
};

struct Client {
  int fd = -1;
  Clock::time_point deadline;
  std::string request;
  bool head = false;
  std::shared_ptr<Pending> pending;  // once the request is whole
  bool answered = false;             // header and body set: sending
  std::string header;
  std::shared_ptr<const std::string> body;
  size_t sent = 0;
};

// The bytes of `c`'s answer: status line and headers, then (not for HEAD)
// the body, unless it is over the cap.
void Finish(Client* c, HttpAnswer a, size_t max_body) {
  if (!a.body) a.body = std::make_shared<const std::string>();
  if (a.body->size() > max_body)
    a = HttpAnswer::Text("503 Service Unavailable", "answer of " + std::to_string(a.body->size()) +
                                                        " bytes, over leakscoped's cap of " +
                                                        std::to_string(max_body) + " bytes\n");
  c->header = "HTTP/1.1 " + a.status + "\r\nContent-Type: " + a.content_type +
              "\r\nContent-Length: " + std::to_string(a.body->size()) + "\r\n";
  for (const std::string& h : a.headers) c->header += h + "\r\n";
  c->header += "Connection: close\r\n\r\n";
  c->body = c->head ? std::make_shared<const std::string>() : a.body;
  c->answered = true;
}

// The request is whole: hand it to the handler (or refuse its method).
void Dispatch(Client* c, const MetricsHttpServer::Handler& handler,
              const std::shared_ptr<MetricsHttpServer::Wake>& wake,
              const MetricsHttpLimits& limits) {
  const std::string line = c->request.substr(0, c->request.find("\r\n"));
  const size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
  const std::string method = line.substr(0, sp1);
  const std::string target = sp1 == std::string::npos ? "" : line.substr(sp1 + 1, sp2 - sp1 - 1);
  c->head = method == "HEAD";
  if (method != "GET" && method != "HEAD")
    return Finish(c, HttpAnswer::Text("405 Method Not Allowed", "only GET\n"),
                  limits.max_response_bytes);
  HttpRequest req;
  req.path = target.substr(0, target.find('?'));
  if (target.find('?') != std::string::npos) req.query = target.substr(target.find('?') + 1);
  auto pending = std::make_shared<Pending>();
  c->pending = pending;
  handler(req, [pending, wake](HttpAnswer a) {
    std::lock_guard<std::mutex> lock(pending->mu);
    if (pending->ready) return;
    pending->answer = std::move(a);
    pending->ready = true;
    wake->Signal();
  });
  std::unique_lock<std::mutex> lock(pending->mu);
  if (pending->ready)
    return lock.unlock(), Finish(c, std::move(pending->answer), limits.max_response_bytes);
  c->deadline = Clock::now() + std::chrono::milliseconds(limits.deferred_timeout_ms);
}

// Reads what has arrived; returns false if the connection is done with
// (closed by the peer, an error, an oversized request).
bool ReadSome(Client* c, const MetricsHttpServer::Handler& handler,
              const std::shared_ptr<MetricsHttpServer::Wake>& wake,
              const MetricsHttpLimits& limits) {
  char buf[1024];
  while (true) {
    const ssize_t n = recv(c->fd, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;
    c->request.append(buf, size_t(n));
    if (c->request.find("\r\n\r\n") != std::string::npos) {
      Dispatch(c, handler, wake, limits);
      return true;
    }
    if (c->request.size() > kMaxRequest) return false;
  }
}

// Sends what the socket takes; false once all is sent or on error.
bool SendSome(Client* c) {
  const size_t total = c->header.size() + c->body->size();
  while (c->sent < total) {
    const bool in_header = c->sent < c->header.size();
    const char* data =
        in_header ? c->header.data() + c->sent : c->body->data() + (c->sent - c->header.size());
    const size_t left = in_header ? c->header.size() - c->sent : total - c->sent;
    const ssize_t n = send(c->fd, data, left, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    if (n <= 0) return false;
    c->sent += size_t(n);
  }
  return false;
}

// A late answer has come: its client starts sending.
void CollectLate(Client* c, size_t max_body) {
  if (!c->pending || c->answered) return;
  std::unique_lock<std::mutex> lock(c->pending->mu);
  if (!c->pending->ready) return;
  HttpAnswer a = std::move(c->pending->answer);
  lock.unlock();
  Finish(c, std::move(a), max_body);
}

}  // namespace

std::string HttpRequest::Param(const std::string& name) const {
  size_t at = 0;
  while (at <= query.size()) {
    const size_t end = std::min(query.find('&', at), query.size());
    const std::string pair = query.substr(at, end - at);
    const size_t eq = pair.find('=');
    if (Decode(pair.substr(0, eq)) == name)
      return eq == std::string::npos ? "" : Decode(pair.substr(eq + 1));
    at = end + 1;
  }
  return "";
}

HttpAnswer HttpAnswer::Text(std::string status, std::string text) {
  HttpAnswer a;
  a.status = std::move(status);
  a.body = std::make_shared<const std::string>(std::move(text));
  return a;
}

HttpAnswer MetricsHttpServer::MetricsAnswer(std::string text) {
  HttpAnswer a = HttpAnswer::Text("200 OK", std::move(text));
  a.content_type = "text/plain; version=0.0.4; charset=utf-8";
  return a;
}

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
    : MetricsHttpServer(
          [provider = std::move(provider)](const HttpRequest& req, Reply reply) {
            if (req.path != "/metrics")
              return reply(HttpAnswer::Text("404 Not Found", "see /metrics\n"));
            reply(MetricsAnswer(provider()));
          },
          limits) {}

MetricsHttpServer::MetricsHttpServer(Handler handler, MetricsHttpLimits limits)
    : handler_(std::move(handler)), limits_(limits), wake_(std::make_shared<Wake>()) {}

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
  std::deque<Client> clients;  // oldest first
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
    for (Client& c : clients) CollectLate(&c, limits_.max_response_bytes);
    fds.assign({{stop_pipe_[0], POLLIN, 0},
                {backoff.paused() ? -1 : listen_fd_, POLLIN, 0},
                {wake_->fds[0], POLLIN, 0}});
    for (const Client& c : clients)
      fds.push_back({c.fd, short(c.answered ? POLLOUT : c.pending ? 0 : POLLIN), 0});
    int timeout_ms = backoff.paused() ? int(AcceptBackoff::kPauseNs / 1'000'000) : -1;
    if (!clients.empty()) {
      // Deferred answers have later deadlines: not in accept order.
      Clock::time_point soonest = clients.front().deadline;
      for (const Client& c : clients) soonest = std::min(soonest, c.deadline);
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(soonest - now);
      const int first = int(std::max<long>(0, long(left.count()) + 1));
      timeout_ms = timeout_ms < 0 ? first : std::min(timeout_ms, first);
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) break;
    if (fds[0].revents) break;
    if (fds[2].revents) wake_->Drain();
    for (size_t i = 0; i < clients.size(); ++i) {
      Client& c = clients[i];
      const short revents = fds[3 + i].revents;
      if (!revents) continue;
      bool open = c.pending || c.answered ? !(revents & (POLLERR | POLLHUP)) || c.answered
                                          : ReadSome(&c, handler_, wake_, limits_);
      if (open && c.answered) open = SendSome(&c);
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
      Client c;
      c.fd = fd;
      c.deadline = Clock::now() + std::chrono::milliseconds(limits_.timeout_ms);
      clients.push_back(std::move(c));
    }
  }
  for (Client& c : clients) close(c.fd);
}

}  // namespace leakscope::collector
