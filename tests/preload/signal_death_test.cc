// Deaths by signal under the shim (preload/signal_deaths.cc): a process that
// a signal's default action ends still delivers the events of its last
// moments, dies by the same signal with the same wait status as bare, and a
// program's own handlers and sigaction() answers are untouched. A SIGKILLed
// process's report says how many milliseconds may be missing. Each case runs
// tests/preload/programs/signal_death_prog.c bare and preloaded with a
// leakscoped collector, whose reports are read once it has stopped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ostream>
#include <string>
#include <vector>

#include "report_file.h"
#include "run_process.h"

extern char** environ;

namespace leakscope {
namespace {

using api_testing::Daemon;
using api_testing::FilesEndingWith;
using report::Process;
using report::Report;
using report::Site;

// The flush interval the traced runs use (the longest the shim allows): the
// deaths below come well within one, so nothing but the final flush can have
// sent their last events.
constexpr uint64_t kFlushMs = 100;

struct Ran {
  int wait_status = -1;  // as waitpid() gives it
  std::string output;    // stdout and stderr
};

// Runs the program with `env` added, no core file (the same for bare and
// traced runs, so that their wait statuses compare).
Ran RunProgram(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  Ran ran;
  std::vector<std::string> argv = {SIGNAL_DEATH_PROG};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<std::string> envs;
  for (char** e = environ; *e; ++e) envs.emplace_back(*e);
  envs.insert(envs.end(), env.begin(), env.end());
  std::vector<char*> argp, envp;
  for (std::string& a : argv) argp.push_back(a.data());
  argp.push_back(nullptr);
  for (std::string& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ran;
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    const rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    // Whatever the test runner left blocked or ignored, the program starts
    // with every signal at its default.
    for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(argp[0], argp.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    ran.output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  while (waitpid(pid, &ran.wait_status, 0) < 0 && errno == EINTR) {
  }
  return ran;
}

struct Traced {
  Ran ran;
  std::vector<Report> reports;
};

// Preloaded, every allocation recorded, to a collector of its own; the
// collector is stopped (every report written) before the reports are read.
Traced RunTraced(const std::vector<std::string>& args) {
  Traced t;
  Daemon daemon(LEAKSCOPED_BIN);
  EXPECT_TRUE(daemon.ok()) << daemon.said();
  if (!daemon.ok()) return t;
  t.ran = RunProgram(args, {"LD_PRELOAD=" SHIM_PATH, "LEAKSCOPE_SOCKET=" + daemon.socket(),
                            "LEAKSCOPE_SAMPLE_INTERVAL=1", "LEAKSCOPE_LOSSLESS=1",
                            "LEAKSCOPE_FLUSH_MS=" + std::to_string(kFlushMs)});
  daemon.Stop();
  for (const std::string& name : FilesEndingWith(daemon.dir(), ".lsr")) {
    Report r;
    std::string error;
    EXPECT_TRUE(report::ReadReportFile(daemon.dir() + "/" + name, &r, &error)) << error;
    t.reports.push_back(r);
  }
  return t;
}

const Site* SiteOf(const Report& r, const std::string& function) {
  for (const Site& s : r.sites())
    if (s.frames_size() && r.frames(int(s.frames(0))).function() == function) return &s;
  return nullptr;
}

uint64_t LiveAt(const Report& r, const std::string& function) {
  const Site* s = SiteOf(r, function);
  return s ? s->live_bytes() : 0;
}

std::string Describe(int wait_status) {
  if (WIFSIGNALED(wait_status))
    return "killed by " + std::string(sigabbrev_np(WTERMSIG(wait_status)) ?: "?") +
           (WCOREDUMP(wait_status) ? " (core)" : "");
  if (WIFEXITED(wait_status)) return "exit " + std::to_string(WEXITSTATUS(wait_status));
  return "status " + std::to_string(wait_status);
}

struct Death {
  const char* mode;
  int sig;
};

void PrintTo(const Death& d, std::ostream* os) {
  *os << d.mode << " SIG" << sigabbrev_np(d.sig);
}

class SignalDeath : public testing::TestWithParam<Death> {};

// The 1000 x 100 B leaked right before the signal used to be lost (still in
// the shim's rings), and the report said nothing was dropped.
TEST_P(SignalDeath, DefaultActionFlushesTheLastEventsAndDiesByTheSameSignal) {
  const Death& d = GetParam();
  const std::vector<std::string> args = {d.mode, std::to_string(d.sig)};
  const Ran bare = RunProgram(args, {});
  ASSERT_TRUE(WIFSIGNALED(bare.wait_status)) << Describe(bare.wait_status) << bare.output;
  ASSERT_EQ(WTERMSIG(bare.wait_status), d.sig) << bare.output;
  const Traced t = RunTraced(args);
  EXPECT_EQ(Describe(t.ran.wait_status), Describe(bare.wait_status)) << t.ran.output;
  EXPECT_EQ(t.ran.wait_status, bare.wait_status) << t.ran.output;
  EXPECT_EQ(t.ran.output, bare.output);
  ASSERT_EQ(t.reports.size(), 1u) << t.ran.output;
  const Report& r = t.reports[0];
  const Site* s = SiteOf(r, "leak_before_death");
  ASSERT_NE(s, nullptr) << "the last events never arrived";
  EXPECT_EQ(s->live_bytes(), 100000u);
  EXPECT_EQ(s->live_allocations(), 1000u);
  EXPECT_EQ(r.process().how(), "signal SIG" + std::string(sigabbrev_np(d.sig)));
  EXPECT_EQ(r.dropped_events(), 0u);
  EXPECT_EQ(r.totals().possibly_missing_ms(), 0u);  // it said goodbye
}

INSTANTIATE_TEST_SUITE_P(Preload, SignalDeath,
                         testing::Values(Death{"die", SIGTERM}, Death{"die", SIGHUP},
                                         Death{"die", SIGUSR1}, Death{"die", SIGALRM},
                                         Death{"die", SIGINT}, Death{"die", SIGPIPE},
                                         Death{"die", SIGQUIT}, Death{"die", SIGXCPU},
                                         Death{"die", SIGUSR2}, Death{"blocked", SIGTERM},
                                         Death{"other_thread", SIGTERM}),
                         [](const testing::TestParamInfo<Death>& i) {
                           return std::string(i.param.mode) + "_SIG" + sigabbrev_np(i.param.sig);
                         });

// The program's own handler runs and sigaction() shows it; SIG_IGN is the
// kernel's; signal() and sigaction() return what the program set, never the
// shim's handler; once the program sets SIG_DFL again, death by SIGTERM
// flushes its last events.
TEST(SignalDeathOwnHandler, AProgramsOwnHandlersKeepTheirBehaviourAndSigactionShowsThem) {
  const Ran bare = RunProgram({"own_handler"}, {});
  ASSERT_TRUE(WIFSIGNALED(bare.wait_status)) << Describe(bare.wait_status) << bare.output;
  ASSERT_EQ(WTERMSIG(bare.wait_status), SIGTERM);
  // What the program saw, bare (the flags are glibc's and the kernel's).
  const char* const kLines[] = {
      "at start: TERM handler=SIG_DFL flags=0 mask_has_usr2=0\n",
      "sigaction returned the old handler=SIG_DFL\n",
      "installed: TERM handler=own flags=0x14000000 mask_has_usr2=1\n",
      "after raise: handled=15\n",
      "signal(SIGHUP, SIG_IGN) returned SIG_DFL\n",
      "ignored: HUP handler=SIG_IGN flags=0x14000000 mask_has_usr2=0\n",
      "signal(SIGTERM, SIG_DFL) returned own\n",
      "default again: TERM handler=SIG_DFL flags=0x14000000 mask_has_usr2=0\n"};
  // The handler writes its line directly, ahead of stdio's buffer.
  std::string expected = "own handler ran\n";
  for (const char* line : kLines) expected += line;
  EXPECT_EQ(bare.output, expected);
  const Traced t = RunTraced({"own_handler"});
  EXPECT_EQ(t.ran.output, bare.output);
  EXPECT_EQ(t.ran.wait_status, bare.wait_status) << Describe(t.ran.wait_status);
  ASSERT_EQ(t.reports.size(), 1u) << t.ran.output;
  const Report& r = t.reports[0];
  EXPECT_EQ(LiveAt(r, "leak_before_death"), 100000u);
  EXPECT_EQ(r.process().how(), "signal SIGTERM");
  EXPECT_EQ(r.totals().possibly_missing_ms(), 0u);
}

// SIGKILL cannot be caught: what was still in the shim's rings is lost, and
// the report says for how long at most (the flush interval).
TEST(SignalDeathKill, ASigkilledProcesssReportSaysHowManyMillisecondsMayBeMissing) {
  const Traced t = RunTraced({"sigkill"});
  ASSERT_TRUE(WIFSIGNALED(t.ran.wait_status)) << Describe(t.ran.wait_status) << t.ran.output;
  EXPECT_EQ(WTERMSIG(t.ran.wait_status), SIGKILL);
  ASSERT_EQ(t.reports.size(), 1u) << t.ran.output;
  const Report& r = t.reports[0];
  EXPECT_EQ(r.process().end(), Process::DISCONNECTED);
  EXPECT_GE(r.totals().possibly_missing_ms(), 1u);
  EXPECT_LE(r.totals().possibly_missing_ms(), kFlushMs);
}

}  // namespace
}  // namespace leakscope
