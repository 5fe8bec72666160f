// A minimal HTTP/1.1 server for Prometheus: GET /metrics answers with the
// text the provider returns; anything else is 404 (405 for other methods).
// "Connection: close". One thread serves many connections at once (poll):
// each gets a fixed time from its accept to send its request and read the
// answer, then it is closed, so connections that never finish their request
// (30 of them once held a scrape back 37.8 s, served one after the other)
// cannot delay a real scrape. Their number is bounded: at the maximum, a new
// connection takes the place of the oldest.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace leakscope::collector {

struct MetricsHttpLimits {
  int timeout_ms = 2000;        // per connection, from accept to the last byte of the answer
  size_t max_connections = 64;  // open at once
};

class MetricsHttpServer {
 public:
  using Provider = std::function<std::string()>;  // called on the server's thread
  explicit MetricsHttpServer(Provider provider, MetricsHttpLimits limits = {});
  ~MetricsHttpServer();  // stops the thread
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // "ADDR:PORT", IPv4 (port 0: any free port). Binds, listens and starts the
  // thread. False + one-line *error on failure.
  bool Start(const std::string& address, std::string* error);
  void Stop();
  uint16_t port() const { return port_; }  // the bound port, after Start()

 private:
  void Serve();

  Provider provider_;
  MetricsHttpLimits limits_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread thread_;
};

// Splits "ADDR:PORT" (IPv4 dotted quad). False if malformed.
bool ParseHostPort(const std::string& text, std::string* host, uint16_t* port);

}  // namespace leakscope::collector
