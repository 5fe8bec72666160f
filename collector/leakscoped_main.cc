// leakscoped: the standalone collector daemon. Serves traced processes on a
// Unix socket and writes one report per process into the output directory,
// until SIGTERM or SIGINT (then it reports the streams still open).
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include "server.h"

namespace {

constexpr char kUsage[] =
    "usage: leakscoped --socket PATH --output DIR\n"
    "  --socket PATH  Unix socket the traced processes connect to (LEAKSCOPE_SOCKET)\n"
    "  --output DIR   directory for the reports, <exe>.<pid>.lsr\n"
    "Runs until SIGTERM or SIGINT.\n";

struct Flags {
  std::string socket_path;
  std::string output_dir;
};

// Returns 0 to run, or the exit code: 0 after --help, 2 for a bad command line.
int ParseFlags(int argc, char** argv, Flags* flags, bool* help) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return 0;
    }
    std::string* target = arg == "--socket"   ? &flags->socket_path
                          : arg == "--output" ? &flags->output_dir
                                              : nullptr;
    if (!target) {
      std::fprintf(stderr, "leakscoped: unknown argument '%s' (try --help)\n", arg.c_str());
      return 2;
    }
    if (i + 1 >= argc) {
      std::fprintf(stderr, "leakscoped: %s needs a value\n", arg.c_str());
      return 2;
    }
    *target = argv[++i];
  }
  if (flags->socket_path.empty() || flags->output_dir.empty()) {
    std::fprintf(stderr, "leakscoped: --socket and --output are required (try --help)\n");
    return 2;
  }
  return 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  bool help = false;
  if (int code = ParseFlags(argc, argv, &flags, &help); code != 0) return code;
  if (help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (!IsDirectory(flags.output_dir)) {
    std::fprintf(stderr, "leakscoped: output directory '%s' does not exist\n",
                 flags.output_dir.c_str());
    return 2;
  }
  // Signals are taken synchronously by one thread: Stop() is not
  // async-signal-safe. Block them before any thread starts so all inherit it.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  leakscope::collector::Server server({flags.socket_path, flags.output_dir});
  std::string error;
  if (!server.Listen(&error)) {
    std::fprintf(stderr, "leakscoped: %s\n", error.c_str());
    return 1;
  }
  server.SetOnReport([](const leakscope::collector::FinishedProcess& p) {
    if (!p.report_path.empty())
      std::fprintf(stderr, "leakscoped: wrote %s\n", p.report_path.c_str());
  });
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server.Stop();
  });
  std::fprintf(stderr, "leakscoped: listening on %s\n", flags.socket_path.c_str());
  server.Run();
  // Run() also returns if the event loop fails: wake the waiter then too.
  // (After a real signal this one just stays pending until exit.)
  kill(getpid(), SIGTERM);
  waiter.join();
  return 0;
}
