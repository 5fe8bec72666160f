#include "metrics_http.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace leakscope::collector {
namespace {

constexpr size_t kMaxRequest = 8192;
constexpr int kClientTimeoutMs = 2000;

void WriteAll(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, kClientTimeoutMs) <= 0) return;  // a client that does not read is dropped
    ssize_t n = send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Reads up to the end of the request headers; false on timeout or overflow.
bool ReadRequest(int fd, std::string* request) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kClientTimeoutMs);
  char buf[1024];
  while (request->find("\r\n\r\n") == std::string::npos) {
    if (request->size() > kMaxRequest) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    request->append(buf, static_cast<size_t>(n));
  }
  return true;
}

std::string Response(const std::string& status, const std::string& type, const std::string& body) {
  return "HTTP/1.1 " + status + "\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
         body;
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

MetricsHttpServer::MetricsHttpServer(Provider provider) : provider_(std::move(provider)) {}

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
  listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  if (listen_fd_ < 0 || setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
      bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      listen(listen_fd_, 16) != 0 || pipe2(stop_pipe_, O_CLOEXEC) != 0) {
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
  while (true) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;
    Answer(fd);
    close(fd);
  }
}

void MetricsHttpServer::Answer(int fd) {
  std::string request;
  if (!ReadRequest(fd, &request)) return;
  const std::string line = request.substr(0, request.find("\r\n"));
  const size_t sp1 = line.find(' '), sp2 = line.find(' ', sp1 + 1);
  const std::string method = line.substr(0, sp1);
  std::string target = sp1 == std::string::npos ? "" : line.substr(sp1 + 1, sp2 - sp1 - 1);
  target = target.substr(0, target.find('?'));
  if (method != "GET" && method != "HEAD")
    return WriteAll(fd, Response("405 Method Not Allowed", "text/plain", "only GET\n"));
  if (target != "/metrics")
    return WriteAll(fd, Response("404 Not Found", "text/plain", "see /metrics\n"));
  std::string response =
      Response("200 OK", "text/plain; version=0.0.4; charset=utf-8", provider_());
  if (method == "HEAD") response.erase(response.find("\r\n\r\n") + 4);
  WriteAll(fd, response);
}

}  // namespace leakscope::collector
