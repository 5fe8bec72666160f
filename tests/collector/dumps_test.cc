// Dumps before the kill, against the real leakscoped and the real shim:
// a snapshot near the memory limit of a real cgroup whose OOM killer then
// kills the program (and the same with --limit-bytes standing in for the
// cgroup's limit), at new high-water marks, and `leakscope snapshot PID`.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "daemon_test_util.h"
#include "run_process.h"
#include "second_uid.h"
#include "test_cgroup.h"

namespace leakscope::collector {
namespace {

using namespace std::chrono_literals;
using testing::FilesWith;
using testing::ReadReport;
using testing::WaitFor;

constexpr uint64_t kMebibyte = 1 << 20;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// The real daemon, its stderr in <dir>/daemon.log, stopped by the destructor.
class Daemon {
 public:
  explicit Daemon(std::vector<std::string> extra) : dir_(testing::MakeTempDir("leakscope-dumps")) {
    std::vector<std::string> args = {LEAKSCOPED_PATH, "--socket", socket(), "--output", out()};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      const int log = open(log_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      dup2(log, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    EXPECT_TRUE(WaitFor([&] { return Log().find("listening on") != std::string::npos; }, 20s))
        << Log();
  }
  ~Daemon() {
    Stop();
    std::filesystem::remove_all(dir_);
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  std::string socket() const { return dir_ + "/sock"; }
  std::string out() const { return dir_ + "/out"; }
  std::string log_path() const { return dir_ + "/daemon.log"; }
  std::string Log() const { return ReadFile(log_path()); }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

// A traced program: stdin and stdout are pipes; in `cgroup_procs` if given.
struct Traced {
  pid_t pid = -1;
  int in = -1, out = -1;
  std::string Line() const {
    std::string line;
    char c;
    while (read(out, &c, 1) == 1 && c != '\n') line += c;
    return line;
  }
  void CloseStdin() {
    if (in >= 0) close(in);
    in = -1;
  }
  int Wait() {
    CloseStdin();
    int status = 0;
    waitpid(pid, &status, 0);
    close(out);
    return status;
  }
};

Traced Spawn(const std::vector<std::string>& args, const std::string& socket,
             const std::string& cgroup_procs = "") {
  int in[2], out[2];
  EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  std::vector<std::string> env = {"LD_PRELOAD=" SHIM_PATH, "LEAKSCOPE_SOCKET=" + socket,
                                  "LEAKSCOPE_SAMPLE_INTERVAL=1"};
  std::vector<char*> envp, argv;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    // Into the cgroup before exec: every page the program touches is charged there.
    if (!cgroup_procs.empty()) {
      const int fd = open(cgroup_procs.c_str(), O_WRONLY);
      if (fd < 0 || write(fd, "0", 1) != 1) _exit(126);
      close(fd);
    }
    dup2(in[0], 0);
    dup2(out[1], 1);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  return {pid, in[1], out[0]};
}

// Live bytes and allocations of the sites whose innermost frame is `function`.
std::pair<uint64_t, uint64_t> Site(const report::Report& r, const std::string& function) {
  uint64_t bytes = 0, count = 0;
  for (const report::Site& s : r.sites())
    if (s.frames_size() > 0 && r.frames(s.frames(0)).function() == function)
      bytes += s.live_bytes(), count += s.live_allocations();
  return {bytes, count};
}

std::string Name(const std::string& path) {
  return std::filesystem::path(path).filename();
}

// limit_leak touches 40 MiB at once, which takes its cgroup over half of its
// 64 MiB limit; the daemon dumps it then (40 blocks of LeakMebibyte, all the
// collector had: the program waited for it before touching), and the program
// grows on until the kernel's OOM killer kills it. That snapshot is kept as
// limit_leak.<pid>.before-oom-kill.lsr beside the final report.
TEST(DumpsBeforeTheKill, RealCgroupOomKillKeepsTheSnapshotTakenNearTheLimit) {
  std::string why;
  auto cgroup = testing::TestCgroup::Create(64 * kMebibyte, &why);
  // A real memory cgroup needs root (as `make test` runs in CI): fail, not skip.
  ASSERT_TRUE(cgroup) << why << (geteuid() != 0 ? " (not root)" : "");
  Daemon d({"--dump-at-limit", "50"});
  Traced p = Spawn({LIMIT_LEAK_PATH, "40", d.out(), "grow"}, d.socket(), cgroup->procs());
  const std::string pid = p.Line().substr(4);
  EXPECT_EQ(p.Line(), "touched 40 MiB");
  EXPECT_EQ(p.Line().rfind("snapshot seen limit_leak." + pid + ".snap-", 0), 0u);
  const int status = p.Wait();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  const std::string base = d.out() + "/limit_leak." + pid;
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(base + ".lsr"); }, 20s)) << d.Log();
  EXPECT_EQ(FilesWith(d.out(), ".snap-"), std::vector<std::string>{});  // renamed, not copied

  const report::Report before = ReadReport(base + ".before-oom-kill.lsr");
  EXPECT_EQ(before.process().end(), report::Process::RUNNING);
  EXPECT_EQ(Site(before, "LeakMebibyte"), std::make_pair(40 * kMebibyte, uint64_t{40}));
  EXPECT_EQ(Site(before, "LeakMore").first, 0u);
  const report::Report final = ReadReport(base + ".lsr");
  EXPECT_EQ(final.process().end(), report::Process::DISCONNECTED);
  EXPECT_EQ(Site(final, "LeakMebibyte"), std::make_pair(40 * kMebibyte, uint64_t{40}));
  const auto more = Site(final, "LeakMore");
  EXPECT_GE(more.first, kMebibyte);
  EXPECT_EQ(more.first, more.second * kMebibyte);
  const std::string log = d.Log();
  EXPECT_NE(log.find("leakscoped: pid " + pid + " (" LIMIT_LEAK_PATH ") is at "), std::string::npos)
      << log;
  EXPECT_NE(log.find("% of its memory limit: "), std::string::npos) << log;
  EXPECT_NE(log.find(" of 64.0 MiB (cgroup v" + std::to_string(cgroup->version()) + " " +
                     cgroup->dir() + ")\n"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("ended without a goodbye (an OOM kill in its cgroup); its last snapshot"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("is " + base + ".before-oom-kill.lsr\n"), std::string::npos) << log;
}

// Where no cgroup sets a limit (or a looser one), --limit-bytes stands in,
// against the process's RSS: the same dump at half of 64 MiB; killed (SIGKILL from
// here: nothing enforces --limit-bytes), the snapshot is kept as
// before-death, and the --keep pruning never removes it.
TEST(DumpsBeforeTheKill, LimitBytesStandsInForTheCgroupLimit) {
  Daemon d({"--dump-at-limit", "50", "--limit-bytes", "64M", "--keep", "1"});
  Traced p = Spawn({LIMIT_LEAK_PATH, "40", d.out(), "hold"}, d.socket());
  const std::string pid = p.Line().substr(4);
  EXPECT_EQ(p.Line(), "touched 40 MiB");
  EXPECT_EQ(p.Line().rfind("snapshot seen limit_leak." + pid + ".snap-", 0), 0u);
  kill(p.pid, SIGKILL);
  p.Wait();
  const std::string base = d.out() + "/limit_leak." + pid;
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(base + ".lsr"); }, 20s)) << d.Log();
  const report::Report before = ReadReport(base + ".before-death.lsr");
  EXPECT_EQ(Site(before, "LeakMebibyte"), std::make_pair(40 * kMebibyte, uint64_t{40}));
  EXPECT_NE(d.Log().find(") is at "), std::string::npos);
  EXPECT_NE(d.Log().find(" of 64.0 MiB (RSS against --limit-bytes)\n"), std::string::npos)
      << d.Log();
}

// Memory pressure for real: limit_leak holds 48 MiB in a 64 MiB cgroup and
// reads a 96 MiB file again and again, dropped from the page cache each
// time, so the kernel reclaims and refaults its pages: tasks stall on
// memory, and the PSI trigger (10 ms of stall within 2 s) fires. The
// snapshot the program saw holds its 48 blocks.
TEST(DumpsBeforeTheKill, RealMemoryPressureTriggersASnapshot) {
  std::string why;
  auto cgroup = testing::TestCgroup::Create(64 * kMebibyte, &why);
  // A real memory cgroup needs root (as `make test` runs in CI): fail, not skip.
  ASSERT_TRUE(cgroup) << why << (geteuid() != 0 ? " (not root)" : "");
  Daemon d({"--dump-on-pressure", "10"});
  const std::string file = d.dir() + "/thrash.bin";
  {
    std::ofstream out(file, std::ios::binary);
    std::string chunk(kMebibyte, 'x');
    for (int i = 0; i < 96; ++i) out << chunk;
  }
  Traced p = Spawn({LIMIT_LEAK_PATH, "48", d.out(), "hold", file}, d.socket(), cgroup->procs());
  const std::string pid = p.Line().substr(4);
  EXPECT_EQ(p.Line(), "touched 48 MiB");
  const std::string seen = p.Line();
  ASSERT_EQ(seen.rfind("snapshot seen limit_leak." + pid + ".snap-", 0), 0u) << seen << d.Log();
  const report::Report snap = ReadReport(d.out() + "/" + seen.substr(14));
  EXPECT_EQ(Site(snap, "LeakMebibyte"), std::make_pair(48 * kMebibyte, uint64_t{48}));
  EXPECT_NE(d.Log().find("leakscoped: pid " + pid + " (" LIMIT_LEAK_PATH "): memory pressure ("),
            std::string::npos)
      << d.Log();
  EXPECT_EQ(p.Wait(), 0);
}

// --dump-on-high-water 50, from 1 MiB: steps of 4, 4, 1 and 4 MiB make live
// heaps of 4, 8, 9 and 13 MiB; 4 > 1.5, 8 >= 6, 9 < 12, 13 >= 12: three dumps.
TEST(DumpsBeforeTheKill, HighWaterMarksWithHysteresis) {
  Daemon d({"--dump-on-high-water", "50", "--keep", "0"});
  Traced p = Spawn({HEAP_STEPS_PATH, "4096", "4096", "1024", "4096"}, d.socket());
  const std::string pid = p.Line().substr(4);
  EXPECT_EQ(p.Line(), "ready");
  EXPECT_EQ(p.Wait(), 0);
  ASSERT_TRUE(WaitFor(
      [&] { return std::filesystem::exists(d.out() + "/heap_steps." + pid + ".lsr"); }, 20s));
  std::multiset<uint64_t> highs;
  for (const std::string& f : FilesWith(d.out(), ".snap-"))
    highs.insert(Site(ReadReport(f), "HeapStep").first / kMebibyte);
  EXPECT_EQ(highs, (std::multiset<uint64_t>{4, 8, 13}));
  EXPECT_EQ(FilesWith(d.out(), ".before-"), std::vector<std::string>{});  // it said goodbye
}

// Bad values of the dump flags: one line, exit 2, before anything starts.
TEST(DumpsBeforeTheKill, BadFlagValuesExit2WithOneLine) {
  const auto run = [](std::vector<std::string> flags) {
    std::vector<std::string> argv = {LEAKSCOPED_PATH, "--socket", "/tmp/never.sock", "--output",
                                     "/tmp"};
    argv.insert(argv.end(), flags.begin(), flags.end());
    return api_testing::RunProcess(argv);
  };
  const std::pair<std::vector<std::string>, std::string> cases[] = {
      {{"--dump-at-limit", "0"}, "--dump-at-limit: '0' is not a whole number from 1 to 100"},
      {{"--dump-at-limit", "101"}, "--dump-at-limit: '101' is not a whole number from 1 to 100"},
      {{"--dump-at-limit", "90%"}, "--dump-at-limit: '90%' is not a whole number from 1 to 100"},
      {{"--dump-on-high-water", "-5"},
       "--dump-on-high-water: '-5' is not a whole number from 1 to 1000"},
      {{"--dump-on-pressure", "2000"},
       "--dump-on-pressure: '2000' is not a whole number from 1 to 1999"},
      {{"--limit-bytes", "64MB", "--dump-at-limit", "90"},
       "--limit-bytes: '64MB' is not a size from 0 to 18446744073709551615 bytes (e.g. 4096, "
       "512K, 64M, 2G)"},
      {{"--limit-bytes", "64M"}, "--limit-bytes needs --dump-at-limit PERCENT"},
  };
  for (const auto& [flags, line] : cases) {
    const auto r = run(flags);
    EXPECT_EQ(r.exit_status, 2) << line;
    EXPECT_EQ(r.output, "leakscoped: " + line + "\n");
  }
}

struct Cli {
  int code;
  std::string out;
};

Cli Snapshot(const std::vector<std::string>& args, const std::string& socket) {
  std::vector<std::string> argv = {LEAKSCOPE_PATH, "snapshot"};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = api_testing::RunProcess(argv, {"LEAKSCOPE_SOCKET=" + socket});
  return {r.exit_status, r.output};
}

// `leakscope snapshot PID` through the daemon's socket: the path it wrote,
// holding what the process holds now.
TEST(LeakscopeSnapshot, AsksTheDaemonForOneProcess) {
  Daemon d({});
  Traced p = Spawn({HEAP_STEPS_PATH, "3072", "wait"}, d.socket());
  const std::string pid = p.Line().substr(4);
  EXPECT_EQ(p.Line(), "ready");
  Traced other = Spawn({HEAP_STEPS_PATH, "1024", "wait"}, d.socket());
  other.Line();
  EXPECT_EQ(other.Line(), "ready");
  const Cli r = Snapshot({pid}, d.socket());
  EXPECT_EQ(r.code, 0) << r.out;
  ASSERT_EQ(r.out.back(), '\n');
  const std::string path = r.out.substr(0, r.out.size() - 1);
  EXPECT_EQ(Name(path).rfind("heap_steps." + pid + ".snap-", 0), 0u) << path;
  EXPECT_EQ(std::filesystem::path(path).parent_path(), d.out());
  const report::Report snap = ReadReport(path);
  EXPECT_EQ(snap.process().pid(), std::stoul(pid));
  EXPECT_EQ(Site(snap, "HeapStep"), std::make_pair(3 * kMebibyte, uint64_t{1}));
  EXPECT_EQ(FilesWith(d.out(), ".snap-").size(), 1u);  // only that process
  EXPECT_EQ(p.Wait(), 0);
  EXPECT_EQ(other.Wait(), 0);
}

TEST(LeakscopeSnapshot, ErrorsAreOneLineAndNonZero) {
  Daemon d({});
  const std::string self = std::to_string(getpid());
  Cli r = Snapshot({self}, d.socket());
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out,
            "leakscope snapshot: leakscoped: pid " + self + " is not traced by this leakscoped\n");
  const pid_t gone = fork();  // a pid that no process has once it is reaped
  if (gone == 0) _exit(0);
  waitpid(gone, nullptr, 0);
  r = Snapshot({"--reachability", std::to_string(gone)}, d.socket());
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out,
            "leakscope snapshot: leakscoped: no process with pid " + std::to_string(gone) + "\n");
  r = Snapshot({"1"}, d.dir() + "/absent");
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "leakscope snapshot: no leakscoped listening on " + d.dir() +
                       "/absent: No such file or directory\n");
  r = Snapshot({"12x"}, d.socket());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "leakscope snapshot: '12x' is not a process id\n");
  r = Snapshot({}, d.socket());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(r.out, "leakscope snapshot: which process? give its PID (try --help)\n");
  const auto none =
      api_testing::RunProcess({LEAKSCOPE_PATH, "snapshot", "1"}, {"LEAKSCOPE_SOCKET="});
  EXPECT_EQ(none.exit_status, 2);
  EXPECT_EQ(none.output,
            "leakscope snapshot: no socket: give --socket PATH or set LEAKSCOPE_SOCKET\n");
  EXPECT_EQ(FilesWith(d.out(), ".lsr"), std::vector<std::string>{});  // no report of a request
}

// Another uid, allowed to connect, may not dump root's process: only the
// process's own uid or root may (peer_policy.h).
TEST(LeakscopeSnapshot, AnotherUidMayNotDumpTheProcess) {
  LEAKSCOPE_SECOND_UID(second);
  Daemon d({"--allow-uid", "0", "--allow-uid", std::to_string(second.uid)});
  // The daemon's own rules let both uids in; the files must let it reach the socket.
  chmod(d.dir().c_str(), 0755);
  chmod(d.socket().c_str(), 0666);
  Traced p = Spawn({HEAP_STEPS_PATH, "1024", "wait"}, d.socket());
  const std::string pid = p.Line().substr(4);
  EXPECT_EQ(p.Line(), "ready");
  const auto r = api_testing::RunProcessAs(
      second.uid, second.gid, {LEAKSCOPE_PATH, "snapshot", "--socket", d.socket(), pid});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_EQ(r.output, "leakscope snapshot: leakscoped: uid " + std::to_string(second.uid) +
                          " may not ask for a snapshot of pid " + pid +
                          " (uid 0): only its own uid or root may\n");
  EXPECT_EQ(FilesWith(d.out(), ".snap-"), std::vector<std::string>{});
  EXPECT_EQ(p.Wait(), 0);
}

}  // namespace
}  // namespace leakscope::collector
