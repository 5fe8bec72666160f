// The collector's socket server: accepts one stream per traced process,
// decodes it, keeps each process's live-allocation table and writes the
// process's report when its stream ends, for whatever reason (goodbye, crash,
// SIGKILL: the kernel closes the socket in every case).
//
// Used by the standalone daemon (leakscoped) and, in-process, by
// `leakscope run`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace leakscope::collector {

struct ServerOptions {
  std::string socket_path;   // created by Listen(); an existing socket file is replaced
  std::string output_dir = ".";
  // Report file name is "<exe basename>.<pid>.lsr" in output_dir.
};

struct FinishedProcess {
  uint32_t pid = 0;
  std::string report_path;  // empty if the report could not be written
  std::string error;        // why, if it could not
};

class Server {
 public:
  explicit Server(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and listens (socket mode 0600). False + one-line *error on failure.
  bool Listen(std::string* error);

  // Serves until Stop(). Call from one thread.
  void Run();

  // Thread-safe. Makes Run() return after it has drained what is readable
  // and written a report for every stream still open.
  void Stop();

  // Thread-safe. The exit status of `pid` as seen by waitpid(): put into its
  // report (rewriting it if it was already written).
  void RecordExit(uint32_t pid, int wait_status);

  // Thread-safe. Blocks until the report of `pid` has been written (its
  // stream ended) or `timeout` passes. Returns the finished process, or
  // nullopt on timeout or if no stream from `pid` ever arrived.
  std::optional<FinishedProcess> WaitForReport(uint32_t pid, std::chrono::milliseconds timeout);

  // Called (on the Run() thread) each time a report is written.
  void SetOnReport(std::function<void(const FinishedProcess&)> callback);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace leakscope::collector
