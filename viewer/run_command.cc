// `leakscope run`: collector on a second thread, the command as a child with
// the shim preloaded, then the report of what it left allocated.
#include "run_command.h"

#include <malloc.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "child_environment.h"
#include "child_process.h"
#include "exit_codes.h"
#include "metrics_http.h"
#include "output_dir.h"
#include "private_dir.h"
#include "report_file.h"
#include "server.h"
#include "shim_locator.h"
#include "text_report.h"
#include "usage.h"

extern char** environ;

namespace leakscope::viewer {
namespace {

// How long to wait, after the command ended, for its stream to be drained.
constexpr std::chrono::seconds kReportTimeout{10};
// How long descendants still running when the command exits get before
// `run` says it is waiting for them.
constexpr std::chrono::milliseconds kDescendantGrace{300};

void PrintError(const std::string& message) {
  std::fprintf(stderr, "leakscope run: %s\n", message.c_str());
}

void PrintReport(const collector::FinishedProcess& finished, size_t top) {
  report::Report report;
  std::string error;
  if (finished.report_path.empty()) {
    PrintError("no report for pid " + std::to_string(finished.pid) + ": " + finished.error);
    return;
  }
  if (!report::ReadReportFile(finished.report_path, &report, &error)) {
    PrintError(error);
    return;
  }
  TextOptions options;
  options.top = top;
  options.color = ShouldUseColor(STDERR_FILENO);
  const std::string text = RenderTextReport(report, options);
  std::fprintf(stderr, "\n%s\nReport: %s\n", text.c_str(), finished.report_path.c_str());
}

void PrintOtherReports(const std::vector<collector::FinishedProcess>& all, pid_t main_pid) {
  bool header = false;
  for (const collector::FinishedProcess& f : all) {
    if (f.pid == static_cast<uint32_t>(main_pid) || f.report_path.empty()) continue;
    if (!header) std::fprintf(stderr, "Reports of other traced processes (forked children):\n");
    header = true;
    std::fprintf(stderr, "  %s (pid %u)\n", f.report_path.c_str(), f.pid);
  }
}

// `run --check`: the gate on the command's report, once the command succeeded.
int Gate(const CheckOptions& options, const std::optional<collector::FinishedProcess>& main) {
  report::Report report;
  std::string error;
  if (!main || main->report_path.empty()) {
    PrintError("--check: no report to check");
    return kExitUsage;
  }
  if (!report::ReadReportFile(main->report_path, &report, &error)) {
    PrintError("--check: " + error);
    return kExitUsage;
  }
  return RunGate(report, options, "leakscope run --check", stderr);
}

int Fail(const std::string& message, int exit_status) {
  PrintError(message);
  return exit_status;
}

// What became of the traced command, once the collector has stopped.
struct Outcome {
  int wait_status = 0;
  std::optional<collector::FinishedProcess> main_report;
  bool stream_open = false;  // the wait for its report was stopped with its stream open
};

volatile sig_atomic_t g_stop_waiting = 0;

void StopWaiting(int) {
  g_stop_waiting = 1;
}

std::string DescribePids(const std::vector<uint32_t>& pids) {
  std::string out;
  for (uint32_t pid : pids) {
    if (!out.empty()) out += ", ";
    if (pid == 0) {
      out += "forked children not connected yet";
      continue;
    }
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(comm, name);
    out += std::to_string(pid) + (name.empty() ? "" : " (" + name + ")");
  }
  return out;
}

// The command has exited, but processes it started are still traced (a
// daemon that forked into the background, workers, a child the command did
// not wait for): wait for their streams to end too, so that their reports
// are whole. SIGINT or SIGTERM stops the wait; their reports are then
// written as they stand.
// While alive, SIGINT and SIGTERM set g_stop_waiting instead of killing `run`.
class StopWaitingOnInterrupt {
 public:
  StopWaitingOnInterrupt() {
    struct sigaction stop = {};
    stop.sa_handler = StopWaiting;
    sigemptyset(&stop.sa_mask);
    g_stop_waiting = 0;
    sigaction(SIGINT, &stop, &old_int_);
    sigaction(SIGTERM, &stop, &old_term_);
  }
  ~StopWaitingOnInterrupt() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }

 private:
  struct sigaction old_int_ = {}, old_term_ = {};
};

void WaitForDescendants(collector::Server* server) {
  std::vector<uint32_t> open = server->WaitUntilIdle(kDescendantGrace);
  if (open.empty()) return;
  std::fprintf(stderr,
               "leakscope run: the command exited; still traced: %s. Waiting for them to end "
               "(Ctrl-C writes their reports now).\n",
               DescribePids(open).c_str());
  StopWaitingOnInterrupt interrupt;
  while (!g_stop_waiting && !server->WaitUntilIdle(std::chrono::milliseconds(100)).empty()) {
  }
}

// The command's report, once its stream ends. A stream still open after
// kReportTimeout is not a process that never connected: the collector is
// still reading a long stream, or a process the command started without
// fork()'s handlers (a raw clone) holds its socket. Wait on for it, saying so.
std::optional<collector::FinishedProcess> WaitForMainReport(collector::Server* server, pid_t pid,
                                                            bool* stream_open) {
  const auto id = static_cast<uint32_t>(pid);
  std::optional<collector::FinishedProcess> report = server->WaitForReport(id, kReportTimeout);
  if (report || !server->StreamOpen(id)) return report;
  std::fprintf(stderr,
               "leakscope run: the report of pid %u is not written yet: its stream is still open "
               "(being read, or held by a process it started). Waiting for it (Ctrl-C writes it "
               "now).\n",
               id);
  StopWaitingOnInterrupt interrupt;
  while (!g_stop_waiting && !report && server->StreamOpen(id))
    report = server->WaitForReport(id, std::chrono::milliseconds(100));
  if (!report) report = server->WaitForReport(id, std::chrono::milliseconds(0));
  *stream_open = !report && server->StreamOpen(id);
  return report;
}

// Runs the collector while the command runs, then until its report and
// those of the processes it started are out.
Outcome Supervise(collector::Server* server, pid_t pid, bool wait_for_descendants,
                  SignalForwarding* forwarding) {
  // The collector's thread never takes the signals meant for the command.
  const sigset_t forwarded = ForwardedSignals();
  sigset_t mask;
  pthread_sigmask(SIG_BLOCK, &forwarded, &mask);
  std::thread collector_thread([server] { server->Run(); });
  pthread_sigmask(SIG_SETMASK, &mask, nullptr);
  Outcome outcome;
  outcome.wait_status = WaitForwardingSignals(pid, forwarding);
  server->RecordExit(static_cast<uint32_t>(pid), outcome.wait_status);
  outcome.main_report = WaitForMainReport(server, pid, &outcome.stream_open);
  if (wait_for_descendants) WaitForDescendants(server);
  server->Stop();  // also finalizes the streams of any still running
  collector_thread.join();
  return outcome;
}

// `--metrics ADDR:PORT`: the collector's /metrics, for `leakscope top`. A
// port that cannot be had is said and the run goes on: the command has
// started already, and its report matters more than the live view.
std::unique_ptr<collector::MetricsHttpServer> ServeMetrics(const std::string& address,
                                                           collector::Server* server) {
  auto metrics =
      std::make_unique<collector::MetricsHttpServer>([server] { return server->MetricsText(); });
  std::string error;
  if (!metrics->Start(address, &error)) {
    PrintError(error + " (running without it)");
    return nullptr;
  }
  std::fprintf(stderr, "leakscope run: metrics on http://%s:%u/metrics\n",
               address.substr(0, address.rfind(':')).c_str(), metrics->port());
  return metrics;
}

// Everything after the arguments are known good: returns the exit status.
int Trace(const RunArgs& args, const std::string& shim) {
  std::string error;
  PrivateDir dir;
  if (!dir.Create(&error)) return Fail(error, kExitFailure);
  collector::ServerOptions options;
  options.socket_path = dir.path() + "/collector.sock";
  options.output_dir = args.output_dir;
  // The report is waited for: read the debug info while the command runs.
  options.prewarm_symbols = true;
  // The report is printed from the file at once: no fsync on the way out.
  options.sync_reports = false;
  options.metrics = !args.metrics.empty();
  collector::Server server(options);
  if (!server.Listen(&error)) return Fail(error, kExitFailure);
  // Read only after the Run() thread is joined, which orders the writes before.
  std::vector<collector::FinishedProcess> finished;
  server.SetOnReport([&finished](const collector::FinishedProcess& f) { finished.push_back(f); });

  const TraceSettings settings{shim,        options.socket_path, args.sample_interval,
                               !args.lossy, args.no_follow,      args.reachability};
  SignalForwarding forwarding;  // from before the command exists until its report is out
  Spawned child;
  if (!SpawnCommand(args.command, BuildChildEnvironment(environ, settings), &child, &error)) {
    return Fail(error, kExitFailure);
  }
  if (child.exec_errno != 0) {
    return Fail("cannot execute '" + args.command[0] + "': " + std::strerror(child.exec_errno),
                kExitCannotExec);
  }
  std::unique_ptr<collector::MetricsHttpServer> metrics;
  if (!args.metrics.empty()) metrics = ServeMetrics(args.metrics, &server);
  const Outcome outcome = Supervise(&server, child.pid, !args.no_wait, &forwarding);
  if (metrics) metrics->Stop();
  std::optional<collector::FinishedProcess> main_report = outcome.main_report;
  if (!main_report && outcome.stream_open) {
    // Stopped waiting: Stop() wrote what had been read, cut short.
    for (const collector::FinishedProcess& f : finished)
      if (f.pid == static_cast<uint32_t>(child.pid)) main_report = f;
  }
  if (main_report) {
    PrintReport(*main_report, args.top);
  } else if (outcome.stream_open) {
    PrintError("no report from '" + args.command[0] + "' (pid " + std::to_string(child.pid) +
               "): its stream was still open when the wait was stopped");
  } else {
    PrintError("no report from '" + args.command[0] + "' (pid " + std::to_string(child.pid) +
               "): it never connected (statically linked, or LD_PRELOAD cleared?)");
  }
  PrintOtherReports(finished, child.pid);
  const int status = ShellExitStatus(outcome.wait_status);
  if (!args.check || status != kExitOk) return status;
  return Gate(args.check_options, main_report);
}

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
  // One malloc arena for all of run's threads: a thread's own arena grows by
  // an mprotect per allocation that needs more room (no M_TOP_PAD), the
  // symbolizer's prewarm thread most (docs/BENCHMARKS.md, "The fixed cost").
  mallopt(M_ARENA_MAX, 1);
  RunArgs parsed;
  std::string error;
  switch (ParseRunArgs(args, &parsed, &error)) {
    case ParseOutcome::kHelp:
      std::fputs(kRunUsage, stdout);
      return kExitOk;
    case ParseOutcome::kError:
      PrintError(error);
      return kExitUsage;
    case ParseOutcome::kOk:
      break;
  }
  std::string host;
  uint16_t port = 0;
  if (!parsed.metrics.empty() && !collector::ParseHostPort(parsed.metrics, &host, &port)) {
    PrintError("--metrics '" + parsed.metrics + "': expected IPv4ADDR:PORT, e.g. 127.0.0.1:9464");
    return kExitUsage;
  }
  std::string shim;
  // The shim first: a run that cannot start leaves no new folder behind.
  if (!LocateShim(CurrentShimSearch(), &shim, &error) ||
      !EnsureOutputDir(parsed.output_dir, &error)) {
    PrintError(error);
    return kExitUsage;
  }
  return Trace(parsed, shim);
}

}  // namespace leakscope::viewer
