// The collector's socket server: accepts one stream per traced process,
// decodes it, keeps each process's live-allocation table and writes the
// process's report when its stream ends, for whatever reason (goodbye, crash,
// SIGKILL: the kernel closes the socket in every case).
//
// Used by the standalone daemon (leakscoped) and, in-process, by
// `leakscope run`.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dump_triggers.h"
#include "labels.h"
#include "metrics_text.h"
#include "stream_decoder.h"

namespace leakscope::collector {

struct ServerOptions {
  ServerOptions() = default;
  ServerOptions(std::string socket, std::string output)
      : socket_path(std::move(socket)), output_dir(std::move(output)) {}

  // Created by Listen(). A stale socket file (nobody listening) is replaced;
  // a live one is an error: one server per socket.
  std::string socket_path;
  std::string output_dir = ".";
  // Report files are exactly this mode (leakscoped: 0600, 0640 with
  // --socket-group; 0: 0644 as the umask allows) and, unless -1, this group.
  mode_t report_mode = 0;
  gid_t report_group = static_cast<gid_t>(-1);
  bool sync_reports = true;  // report::FileMode::sync
  // Report file name is "<exe basename>.<pid>.lsr" in output_dir; snapshots
  // are "<exe basename>.<pid>.snap-<unix seconds>.lsr" (collector/snapshot_files.h).

  // The daemon's features (leakscoped flags). The defaults are `leakscope run`'s.
  uint64_t snapshot_interval_s = 0;  // a snapshot of every process this often; 0 = never
  uint64_t dump_above_bytes = 0;     // a snapshot when live bytes first exceed it; 0 = never
  DumpOptions dumps;  // near the memory limit, at a high-water mark, on pressure (dump_triggers.h)
  size_t keep_snapshots = 10;          // per process, the newest; 0 = keep all
  std::vector<uint32_t> allowed_uids;  // peers' uids; empty = the server's own
  std::string socket_group;            // non-empty: socket mode 0660 with this group
  DecoderLimits limits;                // per stream: frame size, stack depth, stacks
  uint64_t max_live_allocations = 0;   // per stream (memory budget); 0 = no limit
  uint64_t max_memory_bytes = 0;       // all streams together (memory_budget.h); 0 = no limit
  // A stream whose hello, or any later frame, is not whole this long after
  // its first byte arrived (and nothing more is queued) is cut short; 0 = never.
  uint64_t frame_timeout_ms = 0;
  // Answer a shim's request for a reachability scan (LEAKSCOPE_REACHABILITY=1,
  // collector/reachability_scan.h) by stopping the process with ptrace.
  // leakscoped: only with --reachability on.
  bool reachability_scans = true;
  // Scan every running process before each snapshot (interval, SIGUSR1,
  // dump-above): leakscoped --reachability on.
  bool scan_at_snapshots = false;
  bool metrics = false;               // keep MetricsText() current (it costs a scan per tick)
  bool prewarm_symbols = false;       // open stacks' modules as they arrive (ProcessWatch)
  size_t metrics_top_sites = 10;      // site series per process in MetricsText()
  std::vector<Label> metrics_labels;  // --label: on every process's series
};

// /debug/pprof/heap (pprof_http.h): which process. pid, else service (the
// newest process of it), else the only process traced.
struct ProfileRequest {
  uint32_t pid = 0;
  std::string service;
};

struct ProfileResult {
  std::string status = "200 OK";            // HTTP status line's end: "404 Not Found"...
  std::string error;                        // why, if not 200
  std::shared_ptr<const std::string> gzip;  // the gzipped pprof profile, if 200
  uint32_t pid = 0;
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

  // Binds and listens (socket mode 0600). False + one-line *error on failure,
  // also when another server listens on the socket already.
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

  // Thread-safe. Whether a stream from `pid` that said hello is open now
  // (WaitForReport timed out: still being read, or held open by a process
  // it started, rather than never connected).
  bool StreamOpen(uint32_t pid);

  // Thread-safe. Blocks until no traced stream is open and no forked child
  // that its parent announced is still to connect, or `timeout` passes.
  // Returns the pids whose streams are still open, sorted (a 0 stands for
  // announced children not connected yet); empty when idle.
  std::vector<uint32_t> WaitUntilIdle(std::chrono::milliseconds timeout);

  // Called (on the Run() thread) each time a report is written.
  void SetOnReport(std::function<void(const FinishedProcess&)> callback);

  // Thread-safe. A snapshot of every open stream, soon (SIGUSR1).
  void RequestSnapshot();

  // Called (on the Run() thread) with the path of each snapshot written.
  void SetOnSnapshot(std::function<void(const std::string& path)> callback);

  // Thread-safe. The open streams in Prometheus text format, as of the
  // loop's latest tick (every 250 ms); empty unless options.metrics.
  std::string MetricsText();

  // Thread-safe. The open streams' figures and identities, as of the loop's
  // latest tick; empty unless options.metrics.
  std::vector<ProcessMetrics> Processes();

  // Thread-safe. A heap profile of one process, built on the loop thread
  // (reused for a second), handed to `done` there; never answered if the
  // loop has stopped.
  void RequestProfile(ProfileRequest request, std::function<void(const ProfileResult&)> done);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace leakscope::collector
