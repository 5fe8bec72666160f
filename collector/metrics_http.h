// A minimal HTTP/1.1 server for leakscoped's port: GET (and HEAD) only,
// anything else is 405, "Connection: close". What a path answers is the
// handler's (leakscoped: /metrics and the /debug/pprof/ endpoints,
// pprof_http.h); a handler may answer at once or later, from another thread
// (a profile is built on the event loop).
// One thread serves many connections at once (poll): each gets a fixed time
// from its accept to send its request and read the answer, then it is
// closed, so connections that never finish their request (30 of them once
// held a scrape back 37.8 s, served one after the other) cannot delay a real
// scrape. Their number is bounded: at the maximum, a new connection takes
// the place of the oldest. An answer over max_response_bytes is not sent:
// 503 instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace leakscope::collector {

struct MetricsHttpLimits {
  int timeout_ms = 2000;            // per connection, from accept to the last byte of the answer
  int deferred_timeout_ms = 30000;  // an answer given later: from the request, instead
  size_t max_connections = 64;      // open at once
  size_t max_response_bytes = 64u << 20;  // a body over this is a 503
};

struct HttpRequest {
  std::string path;   // without the query
  std::string query;  // after '?', as sent
  // The value of `name` in the query ("" if absent), %XX and '+' decoded.
  std::string Param(const std::string& name) const;
};

struct HttpAnswer {
  std::string status = "200 OK";
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::string> headers;         // extra "Name: value" lines
  std::shared_ptr<const std::string> body;  // shared: one profile, many clients
  static HttpAnswer Text(std::string status, std::string text);
};

class MetricsHttpServer {
 public:
  using Provider = std::function<std::string()>;  // /metrics' text, on the server's thread
  using Reply = std::function<void(HttpAnswer)>;  // call once, from any thread
  using Handler = std::function<void(const HttpRequest&, Reply)>;  // on the server's thread

  // GET /metrics answers with the provider's text; other paths are 404.
  explicit MetricsHttpServer(Provider provider, MetricsHttpLimits limits = {});
  MetricsHttpServer(Handler handler, MetricsHttpLimits limits);
  ~MetricsHttpServer();  // stops the thread
  MetricsHttpServer(const MetricsHttpServer&) = delete;
  MetricsHttpServer& operator=(const MetricsHttpServer&) = delete;

  // "ADDR:PORT", IPv4 (port 0: any free port). Binds, listens and starts the
  // thread. False + one-line *error on failure.
  bool Start(const std::string& address, std::string* error);
  void Stop();
  uint16_t port() const { return port_; }  // the bound port, after Start()

  // /metrics' answer for a provider's text (Prometheus text format 0.0.4).
  static HttpAnswer MetricsAnswer(std::string text);

  struct Wake;  // metrics_http.cc

 private:
  void Serve();

  Handler handler_;
  MetricsHttpLimits limits_;
  int listen_fd_ = -1;
  int stop_pipe_[2] = {-1, -1};
  std::shared_ptr<Wake> wake_;  // late answers wake the thread through it
  uint16_t port_ = 0;
  std::thread thread_;
};

// Splits "ADDR:PORT" (IPv4 dotted quad). False if malformed.
bool ParseHostPort(const std::string& text, std::string* host, uint16_t* port);

}  // namespace leakscope::collector
