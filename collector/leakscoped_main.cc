// leakscoped: the standalone collector daemon. Serves traced processes on a
// Unix socket and writes one report per process into the output directory,
// until SIGTERM or SIGINT (then it reports the streams still open). Optional:
// periodic and on-demand (SIGUSR1) snapshots, a Prometheus /metrics endpoint.
#include <google/protobuf/stubs/logging.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include "byte_size.h"
#include "memory_budget.h"
#include "metrics_http.h"
#include "output_folder.h"
#include "pprof_http.h"
#include "server.h"

namespace {

constexpr char kUsage[] =
    "usage: leakscoped --socket PATH --output DIR [options]\n"
    "  --socket PATH               Unix socket the traced processes connect to (LEAKSCOPE_SOCKET)\n"
    "  --output DIR                directory for the reports, <exe>.<pid>.lsr (created 0700 if\n"
    "                              missing; must be ours, not writable by others unless sticky)\n"
    "  --snapshot-interval SECONDS a snapshot of every process this often,\n"
    "                              <exe>.<pid>.snap-<unix seconds>.lsr (default: none)\n"
    "  --dump-above SIZE           a snapshot when a process's live heap first exceeds SIZE\n"
    "                              (bytes, or 512K, 64M, 2G: binary)\n"
    "  --dump-at-limit PERCENT     a snapshot when a process's cgroup uses PERCENT (1-100) of\n"
    "                              its memory limit (memory.max, v1 memory.limit_in_bytes;\n"
    "                              the level nearest its limit); again after 5 points below\n"
    "  --limit-bytes SIZE          for --dump-at-limit: the limit of a process whose cgroup\n"
    "                              sets none, against its RSS\n"
    "  --dump-on-high-water PERCENT a snapshot at each new high of the live heap PERCENT\n"
    "                              (1-1000) above the last one (the first: above --dump-above,\n"
    "                              else 1M)\n"
    "  --dump-on-pressure MS       a snapshot when the processes of a cgroup stall MS (1-1999)\n"
    "                              ms on memory within 2 s (PSI trigger; at most one per\n"
    "                              process every 10 s)\n"
    "  --keep N                    snapshots kept per process, the newest (default 10; 0 = all;\n"
    "                              the last before a kill is kept as <exe>.<pid>.before-*.lsr)\n"
    "  --metrics ADDR:PORT         serve Prometheus metrics on http://ADDR:PORT/metrics, and\n"
    "                              live heap profiles (pprof) on /debug/pprof/heap?pid=N\n"
    "  --top-sites N               site series per process in /metrics (default 10, max 100)\n"
    "  --label NAME=VALUE          a label on every process's /metrics series (repeatable;\n"
    "                              a process adds its own with LEAKSCOPE_LABELS=k=v,k=v)\n"
    "  --allow-uid UID             a uid allowed to connect (repeatable; default: our own)\n"
    "  --socket-group NAME         socket 0660 and reports 0640, of group NAME (default 0600)\n"
    "  --reachability on|off       with ptrace, find lost vs still reachable blocks: at exit for\n"
    "                              a process that asks (LEAKSCOPE_REACHABILITY=1), and in\n"
    "                              every snapshot of a running process (default off)\n"
    "  --max-frame-bytes SIZE      per stream: largest frame (default 16M)\n"
    "  --max-stack-depth N         per stream: deepest stack (default 256)\n"
    "  --max-stacks N              per stream: distinct stacks (default 4194304)\n"
    "  --max-live-allocations N    per stream: live allocations, its memory budget\n"
    "                              (default 100000000, ~6 GB of collector memory)\n"
    "  --max-memory SIZE           all streams together: memory held for them (buffers, live\n"
    "                              tables, stacks; default a quarter of RAM, here %s)\n"
    "  --frame-timeout SECONDS     a hello or frame not whole this long after it began\n"
    "                              (default 10)\n"
    "A stream that breaks a limit is closed, its report written and saying why. SIGUSR1: a\n"
    "snapshot of every process now ('leakscope snapshot PID': of one). Runs until SIGTERM or\n"
    "SIGINT.\n";

struct Flags {
  leakscope::collector::ServerOptions server;
  std::string metrics;
};

bool ParseNumber(const std::string& flag, const std::string& text, uint64_t max, uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] == '-' || *end != '\0' || errno != 0 || v > max) {
    std::fprintf(stderr, "leakscoped: %s: '%s' is not a number from 0 to %llu\n", flag.c_str(),
                 text.c_str(), static_cast<unsigned long long>(max));
    return false;
  }
  *out = v;
  return true;
}

// A whole number from `min` to `max`.
bool ParseRange(const std::string& flag, const std::string& text, uint32_t min, uint32_t max,
                uint32_t* out) {
  uint64_t v = 0;
  char* end = nullptr;
  errno = 0;
  v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || text[0] < '0' || text[0] > '9' || *end != '\0' || errno != 0 || v < min ||
      v > max) {
    std::fprintf(stderr, "leakscoped: %s: '%s' is not a whole number from %u to %u\n", flag.c_str(),
                 text.c_str(), min, max);
    return false;
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

// A size in bytes in the project's one syntax (byte_size.h: "64M").
bool ParseSize(const std::string& flag, const std::string& text, uint64_t max, uint64_t* out) {
  uint64_t v = 0;
  if (!leakscope::ParseByteSize(text, &v) || v > max) {
    std::fprintf(stderr, "leakscoped: %s: '%s' is not a size from 0 to %llu bytes (e.g. %s)\n",
                 flag.c_str(), text.c_str(), static_cast<unsigned long long>(max),
                 leakscope::kByteSizeExamples);
    return false;
  }
  *out = v;
  return true;
}

// One flag with its value. False (after a one-line error) if it is bad.
bool ApplyFlag(const std::string& arg, const std::string& value, Flags* flags, bool* known) {
  auto& o = flags->server;
  uint64_t n = 0;
  *known = true;
  if (arg == "--socket") return o.socket_path = value, true;
  if (arg == "--output") return o.output_dir = value, true;
  if (arg == "--metrics") return flags->metrics = value, o.metrics = true, true;
  if (arg == "--socket-group") return o.socket_group = value, true;
  if (arg == "--reachability") {
    if (value == "on" || value == "off") {
      o.reachability_scans = o.scan_at_snapshots = value == "on";
      return true;
    }
    std::fprintf(stderr, "leakscoped: --reachability: '%s' is neither on nor off\n", value.c_str());
    return false;
  }
  if (arg == "--snapshot-interval")
    return ParseNumber(arg, value, 366ull * 86400, &o.snapshot_interval_s);
  if (arg == "--dump-above") return ParseSize(arg, value, UINT64_MAX, &o.dump_above_bytes);
  if (arg == "--limit-bytes") return ParseSize(arg, value, UINT64_MAX, &o.dumps.limit_bytes);
  if (arg == "--dump-at-limit") return ParseRange(arg, value, 1, 100, &o.dumps.at_limit_percent);
  if (arg == "--dump-on-high-water")
    return ParseRange(arg, value, 1, 1000, &o.dumps.high_water_percent);
  if (arg == "--dump-on-pressure")
    return ParseRange(arg, value, 1, 1999, &o.dumps.pressure_stall_ms);
  if (arg == "--max-live-allocations")
    return ParseNumber(arg, value, UINT64_MAX, &o.max_live_allocations);
  if (arg == "--max-memory") {
    // Below 1 MiB no stream could say hello.
    if (!ParseSize(arg, value, UINT64_MAX, &o.max_memory_bytes)) return false;
    if (o.max_memory_bytes >= (1u << 20)) return true;
    std::fprintf(stderr, "leakscoped: --max-memory: '%s' is below 1M\n", value.c_str());
    return false;
  }
  if (arg == "--frame-timeout") {
    if (!ParseNumber(arg, value, 86400, &n)) return false;
    if (n == 0) {
      std::fprintf(stderr, "leakscoped: --frame-timeout: 0 would never time out; from 1 s\n");
      return false;
    }
    return o.frame_timeout_ms = n * 1000, true;
  }
  bool ok = true;
  if (arg == "--keep") {
    ok = ParseNumber(arg, value, 1000000, &n), o.keep_snapshots = n;
  } else if (arg == "--top-sites") {
    ok = ParseNumber(arg, value, 100, &n), o.metrics_top_sites = n;
  } else if (arg == "--label") {
    leakscope::collector::Label label;
    std::string error;
    ok = leakscope::collector::ParseLabelFlag(value, &label, &error);
    if (ok) o.metrics_labels.push_back(label);
    if (!ok) std::fprintf(stderr, "leakscoped: %s\n", error.c_str());
  } else if (arg == "--allow-uid") {
    ok = ParseNumber(arg, value, UINT32_MAX - 1, &n), o.allowed_uids.push_back(uint32_t(n));
  } else if (arg == "--max-frame-bytes") {
    ok = ParseSize(arg, value, 16u << 20, &n), o.limits.max_frame_bytes = uint32_t(n);
  } else if (arg == "--max-stack-depth") {
    ok = ParseNumber(arg, value, 256, &n), o.limits.max_stack_depth = int(n);
  } else if (arg == "--max-stacks") {
    ok = ParseNumber(arg, value, UINT32_MAX, &n), o.limits.max_stacks = n;
  } else {
    *known = false;
  }
  return ok;
}

// Returns 0 to run, or the exit code: 0 after --help, 2 for a bad command line.
int ParseFlags(int argc, char** argv, Flags* flags, bool* help) {
  flags->server.max_live_allocations = 100'000'000;
  flags->server.max_memory_bytes = leakscope::collector::DefaultMaxMemory();
  flags->server.frame_timeout_ms = 10'000;
  flags->server.reachability_scans = false;  // it ptraces its clients: only when asked
  flags->server.output_dir.clear();          // required: no default here
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return 0;
    }
    bool known = false;
    const bool has_value = i + 1 < argc;
    const bool ok = ApplyFlag(arg, has_value ? argv[i + 1] : "", flags, &known);
    if (!known) {
      std::fprintf(stderr, "leakscoped: unknown argument '%s' (try --help)\n", arg.c_str());
      return 2;
    }
    if (!has_value) {
      std::fprintf(stderr, "leakscoped: %s needs a value\n", arg.c_str());
      return 2;
    }
    if (!ok) return 2;
    ++i;
  }
  auto& dumps = flags->server.dumps;
  dumps.high_water_from = flags->server.dump_above_bytes ? flags->server.dump_above_bytes : 1 << 20;
  if (dumps.limit_bytes != 0 && dumps.at_limit_percent == 0) {
    std::fprintf(stderr, "leakscoped: --limit-bytes needs --dump-at-limit PERCENT\n");
    return 2;
  }
  if (flags->server.socket_path.empty() || flags->server.output_dir.empty()) {
    std::fprintf(stderr, "leakscoped: --socket and --output are required (try --help)\n");
    return 2;
  }
  return 0;
}

// SIGTERM/SIGINT stop the server; SIGUSR1 asks for snapshots. Taken
// synchronously by one thread: Stop() is not async-signal-safe.
void HandleSignals(const sigset_t& signals, leakscope::collector::Server* server) {
  while (true) {
    int sig = 0;
    if (sigwait(&signals, &sig) != 0) continue;
    if (sig == SIGUSR1) {
      server->RequestSnapshot();
      continue;
    }
    server->Stop();
    return;
  }
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  bool help = false;
  if (int code = ParseFlags(argc, argv, &flags, &help); code != 0) return code;
  if (help) {
    std::printf(kUsage,
                (std::to_string(leakscope::collector::DefaultMaxMemory() >> 20) + "M").c_str());
    return 0;
  }
  std::string error;
  if (!leakscope::collector::PrepareOutputFolder(flags.server.output_dir, &error)) {
    std::fprintf(stderr, "leakscoped: %s\n", error.c_str());
    return 2;
  }
  // Reports are as private as the socket: its group may read them.
  flags.server.report_mode = flags.server.socket_group.empty() ? 0600 : 0640;
  if (const group* g =
          flags.server.socket_group.empty() ? nullptr : getgrnam(flags.server.socket_group.c_str()))
    flags.server.report_group = g->gr_gid;  // no such group: Listen() says so
  // Blocked before any thread starts so that all inherit it.
  sigset_t signals;
  sigemptyset(&signals);
  for (int sig : {SIGTERM, SIGINT, SIGUSR1}) sigaddset(&signals, sig);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // A hostile stream's bad UTF-8 would make libprotobuf log lines of its own;
  // the decoder's one-line reason already says what went wrong.
  google::protobuf::SetLogHandler(nullptr);

  leakscope::collector::Server server(flags.server);
  if (!server.Listen(&error)) {
    std::fprintf(stderr, "leakscoped: %s\n", error.c_str());
    return 1;
  }
  std::unique_ptr<leakscope::collector::MetricsHttpServer> metrics;
  if (!flags.metrics.empty()) {
    metrics = std::make_unique<leakscope::collector::MetricsHttpServer>(
        leakscope::collector::DaemonHttpHandler(&server),
        leakscope::collector::MetricsHttpLimits{});
    if (!metrics->Start(flags.metrics, &error)) {
      std::fprintf(stderr, "leakscoped: %s\n", error.c_str());
      return 1;
    }
  }
  server.SetOnReport([](const leakscope::collector::FinishedProcess& p) {
    if (!p.report_path.empty())
      std::fprintf(stderr, "leakscoped: wrote %s\n", p.report_path.c_str());
  });
  server.SetOnSnapshot([](const std::string& path) {
    std::fprintf(stderr, "leakscoped: snapshot %s\n", path.c_str());
  });
  std::thread waiter(HandleSignals, std::cref(signals), &server);
  std::fprintf(stderr, "leakscoped: listening on %s\n", flags.server.socket_path.c_str());
  if (metrics)
    std::fprintf(stderr, "leakscoped: metrics on http://%s:%u/metrics\n",
                 flags.metrics.substr(0, flags.metrics.rfind(':')).c_str(), metrics->port());
  server.Run();
  if (metrics) metrics->Stop();
  // Run() also returns if the event loop fails: wake the waiter then too.
  // (After a real signal this one just stays pending until exit.)
  kill(getpid(), SIGTERM);
  waiter.join();
  return 0;
}
