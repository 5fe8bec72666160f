#include "snapshot_command.h"

#include <cstdio>
#include <cstdlib>

#include "control_client.h"
#include "exit_codes.h"

namespace leakscope::viewer {
namespace {

constexpr char kSnapshotUsage[] =
    "usage: leakscope snapshot [--reachability] [--socket PATH] [--timeout SECONDS] PID\n"
    "\n"
    "Asks leakscoped for a snapshot of traced process PID now and prints the path of\n"
    "the report it wrote (in its --output folder: <exe>.<pid>.snap-<unix seconds>.lsr).\n"
    "Only PID's own uid, or root, may ask. Exit 0 when written, 1 if there is no daemon,\n"
    "no traced process PID, or the daemon refused; 2 for bad arguments.\n"
    "\n"
    "options:\n"
    "  --reachability       stop PID with ptrace first and find which blocks it can still\n"
    "                       reach (definitely/indirectly/possibly lost, reachable), whatever\n"
    "                       the daemon's --reachability; prints the pause on a second line.\n"
    "                       If it cannot be scanned (ptrace not permitted, a sampled\n"
    "                       process) it says why on stderr and the snapshot holds\n"
    "                       survivors only (exit 0: it was written)\n"
    "  --socket PATH        leakscoped's socket (default: $LEAKSCOPE_SOCKET)\n"
    "  --timeout SECONDS    how long to wait for the report to be written (default 60)\n";

// A whole number from 1 to `max`, else 0.
unsigned long Positive(const std::string& text, unsigned long max) {
  char* end = nullptr;
  const unsigned long v = std::strtoul(text.c_str(), &end, 10);
  if (text.empty() || text[0] < '0' || text[0] > '9' || *end != '\0' || v > max) return 0;
  return v;
}

int Fail(int code, const std::string& message) {
  std::fprintf(stderr, "leakscope snapshot: %s\n", message.c_str());
  return code;
}

}  // namespace

int SnapshotCommand(const std::vector<std::string>& args) {
  const char* env = std::getenv("LEAKSCOPE_SOCKET");
  std::string socket = env ? env : "", pid_text;
  unsigned long timeout_s = 60;
  bool reachability = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") return std::fputs(kSnapshotUsage, stdout), kExitOk;
    const bool has_value = i + 1 < args.size();
    if ((a == "--socket" || a == "--timeout") && !has_value)
      return Fail(kExitUsage, a + " needs a value");
    if (a == "--reachability") {
      reachability = true;
    } else if (a == "--socket") {
      socket = args[++i];
    } else if (a == "--timeout") {
      if ((timeout_s = Positive(args[++i], 86400)) == 0)
        return Fail(kExitUsage, "--timeout: '" + args[i] + "' is not a number of seconds from 1");
    } else if (!a.empty() && a[0] == '-') {
      return Fail(kExitUsage, "unknown option '" + a + "' (try --help)");
    } else if (!pid_text.empty()) {
      return Fail(kExitUsage, "one PID only (try --help)");
    } else {
      pid_text = a;
    }
  }
  if (pid_text.empty()) return Fail(kExitUsage, "which process? give its PID (try --help)");
  const unsigned long pid = Positive(pid_text, 0x7fffffff);
  if (pid == 0) return Fail(kExitUsage, "'" + pid_text + "' is not a process id");
  if (socket.empty())
    return Fail(kExitUsage, "no socket: give --socket PATH or set LEAKSCOPE_SOCKET");
  wire::Control control;
  control.set_snapshot_pid(static_cast<uint32_t>(pid));
  control.set_reachability(reachability);
  std::string error;
  const auto reply =
      collector::SendControl(socket, control, static_cast<int>(timeout_s * 1000), &error);
  if (!reply) return Fail(kExitFailure, error);
  if (!reply->ok()) return Fail(kExitFailure, "leakscoped: " + reply->error());
  std::printf("%s\n", reply->path().c_str());
  if (!reachability) return kExitOk;
  if (!reply->reachability_error().empty()) {
    std::fprintf(stderr, "leakscope snapshot: %s\n", reply->reachability_error().c_str());
  } else if (reply->reachability_threads() == 0) {  // a daemon older than wire.Control.reachability
    std::fprintf(stderr, "leakscope snapshot: this leakscoped did not scan: survivors only\n");
  } else {
    // The cost to the service: every thread stopped this long.
    std::printf("reachability: pid %lu paused %.3f ms (%u threads stopped)\n", pid,
                double(reply->reachability_pause_ns()) / 1e6, reply->reachability_threads());
    // Not caught up with the process (an older shim, a drain that did not pass in time).
    if (const uint64_t behind = reply->reachability_table_behind_ms())
      std::fprintf(stderr,
                   "leakscope snapshot: the live table may have been up to %llu ms behind the "
                   "process: blocks allocated or freed since may be misjudged\n",
                   static_cast<unsigned long long>(behind));
  }
  return kExitOk;
}

}  // namespace leakscope::viewer
