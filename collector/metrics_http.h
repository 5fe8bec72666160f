// A minimal HTTP/1.1 server for Prometheus: GET /metrics answers with the
// text the provider returns; anything else is 404 (405 for other methods).
// One connection at a time on its own thread, "Connection: close": a scraper
// every few seconds needs no more, and a slow client is cut off after 2 s.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <thread>

namespace leakscope::collector {

class MetricsHttpServer {
 public:
  using Provider = std::function<std::string()>;  // called on the server's thread
  explicit MetricsHttpServer(Provider provider);
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
  void Answer(int fd);

  Provider provider_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  uint16_t port_ = 0;
  std::thread thread_;
};

// Splits "ADDR:PORT" (IPv4 dotted quad). False if malformed.
bool ParseHostPort(const std::string& text, std::string* host, uint16_t* port);

}  // namespace leakscope::collector
