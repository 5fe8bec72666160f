// `leakscope run`: collector on a second thread, the command as a child with
// the shim preloaded, then the report of what it left allocated.
#include "run_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>

#include "child_environment.h"
#include "child_process.h"
#include "exit_codes.h"
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

void PrintError(const std::string& message) {
  std::fprintf(stderr, "leakscope run: %s\n", message.c_str());
}

bool CheckOutputDir(const std::string& dir, std::string* error) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    *error = "output directory '" + dir + "': " + std::strerror(errno);
  } else if (!S_ISDIR(st.st_mode)) {
    *error = "output directory '" + dir + "' is not a directory";
  } else if (access(dir.c_str(), W_OK | X_OK) != 0) {
    *error = "output directory '" + dir + "' is not writable";
  }
  return error->empty();
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
};

// Runs the collector while the command runs, then until its report is out.
Outcome Supervise(collector::Server* server, pid_t pid) {
  std::thread collector_thread([server] { server->Run(); });
  Outcome outcome;
  outcome.wait_status = WaitForwardingSignals(pid);
  server->RecordExit(static_cast<uint32_t>(pid), outcome.wait_status);
  outcome.main_report = server->WaitForReport(static_cast<uint32_t>(pid), kReportTimeout);
  server->Stop();  // also finalizes streams of forked children still running
  collector_thread.join();
  return outcome;
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
  collector::Server server(options);
  if (!server.Listen(&error)) return Fail(error, kExitFailure);
  // Read only after the Run() thread is joined, which orders the writes before.
  std::vector<collector::FinishedProcess> finished;
  server.SetOnReport([&finished](const collector::FinishedProcess& f) { finished.push_back(f); });

  const TraceSettings settings{shim, options.socket_path, args.sample_interval, !args.lossy,
                               args.no_follow};
  Spawned child;
  // Fork before the collector thread exists: see SpawnCommand.
  if (!SpawnCommand(args.command, BuildChildEnvironment(environ, settings), &child, &error)) {
    return Fail(error, kExitFailure);
  }
  if (child.exec_errno != 0) {
    return Fail("cannot execute '" + args.command[0] + "': " + std::strerror(child.exec_errno),
                kExitCannotExec);
  }
  const Outcome outcome = Supervise(&server, child.pid);
  if (outcome.main_report) {
    PrintReport(*outcome.main_report, args.top);
  } else {
    PrintError("no report from '" + args.command[0] + "' (pid " + std::to_string(child.pid) +
               "): it never connected (statically linked, or LD_PRELOAD cleared?)");
  }
  PrintOtherReports(finished, child.pid);
  const int status = ShellExitStatus(outcome.wait_status);
  if (!args.check || status != kExitOk) return status;
  return Gate(args.check_options, outcome.main_report);
}

}  // namespace

int RunCommand(const std::vector<std::string>& args) {
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
  std::string shim;
  if (!CheckOutputDir(parsed.output_dir, &error) ||
      !LocateShim(CurrentShimSearch(), &shim, &error)) {
    PrintError(error);
    return kExitUsage;
  }
  return Trace(parsed, shim);
}

}  // namespace leakscope::viewer
