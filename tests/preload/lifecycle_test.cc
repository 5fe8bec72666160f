// The shim inside real processes: every way out, start-up and shutdown
// allocations, exec, fork from a threaded parent, thousands of threads,
// signal handlers that allocate, dlclose'd libraries, a memory limit, and a
// collector that is absent or dies. Each case runs tests/preload/programs/
// lifecycle_prog.cc under `leakscope run` (or the daemon) and reads the
// report files.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "report_file.h"

namespace leakscope {
namespace {

using report::Process;
using report::Report;
using report::Site;

struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/leakscope-lifecycle-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string path;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs a shell command; returns its exit status (128+N for signal N).
int Shell(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  if (WIFEXITED(rc)) return WEXITSTATUS(rc);
  return 128 + WTERMSIG(rc);
}

struct Traced {
  int status = -1;
  std::string out, err;
  std::vector<Report> reports;
  std::vector<std::string> names;
};

std::vector<std::string> ReportFiles(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      if (n.size() > 4 && n.compare(n.size() - 4, 4, ".lsr") == 0) names.push_back(n);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void ReadReports(const std::string& dir, Traced* run) {
  for (const std::string& n : ReportFiles(dir)) {
    Report r;
    std::string error;
    EXPECT_TRUE(report::ReadReportFile(dir + "/" + n, &r, &error)) << error;
    run->reports.push_back(r);
    run->names.push_back(n);
  }
}

Traced RunTraced(const std::string& args, const std::string& env = "",
                 const std::string& run_flags = "", const std::string& program = LIFECYCLE_PROG) {
  TempDir dir;
  Traced run;
  run.status = Shell(env + " " LEAKSCOPE_BIN " run " + run_flags + " -o " + dir.path + " -- " +
                     program + " " + args + " > " + dir.path + "/out 2> " + dir.path + "/err");
  run.out = Slurp(dir.path + "/out");
  run.err = Slurp(dir.path + "/err");
  ReadReports(dir.path, &run);
  return run;
}

const Site* SiteOf(const Report& r, const std::string& function) {
  for (const Site& s : r.sites())
    if (s.frames_size() && r.frames(int(s.frames(0))).function() == function) return &s;
  return nullptr;
}

void ExpectSite(const Report& r, const std::string& function, uint64_t bytes, uint64_t count) {
  const Site* s = SiteOf(r, function);
  ASSERT_NE(s, nullptr) << "no site at " << function;
  EXPECT_EQ(s->live_bytes(), bytes) << function;
  EXPECT_EQ(s->live_allocations(), count) << function;
}

const Report* ReportOf(const Traced& run, const std::string& prefix) {
  for (size_t i = 0; i < run.names.size(); ++i)
    if (run.names[i].rfind(prefix, 0) == 0) return &run.reports[i];
  return nullptr;
}

struct WayOut {
  const char* mode;
  int run_status;
  Process::End end;
  int code;  // exit status or signal
};

class WaysOut : public testing::TestWithParam<WayOut> {};

TEST_P(WaysOut, EventsBeforeTheEndArriveAndTheReportSaysHowItEnded) {
  const WayOut& w = GetParam();
  const Traced run = RunTraced(w.mode);
  EXPECT_EQ(run.status, w.run_status) << run.err;
  ASSERT_EQ(run.reports.size(), 1u) << run.err;
  const Report& r = run.reports[0];
  EXPECT_EQ(r.process().end(), w.end);
  if (w.end == Process::EXITED) {
    EXPECT_EQ(r.process().exit_status(), w.code);
  } else {
    EXPECT_EQ(r.process().signal(), w.code);
  }
  ExpectSite(r, "leak_ten", 1000, 10);
  ExpectSite(r, "leak_in_constructor", 333, 3);  // before main, in a static constructor
  EXPECT_EQ(r.dropped_events(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Lifecycle, WaysOut,
    testing::Values(WayOut{"return", 3, Process::EXITED, 3}, WayOut{"exit", 4, Process::EXITED, 4},
                    WayOut{"_exit", 5, Process::EXITED, 5},
                    WayOut{"abort", 128 + SIGABRT, Process::SIGNALED, SIGABRT},
                    WayOut{"segv", 128 + SIGSEGV, Process::SIGNALED, SIGSEGV},
                    WayOut{"uncaught", 128 + SIGABRT, Process::SIGNALED, SIGABRT},
                    WayOut{"pthread_exit", 0, Process::EXITED, 0},
                    WayOut{"sigkill", 128 + SIGKILL, Process::SIGNALED, SIGKILL}),
    [](const testing::TestParamInfo<WayOut>& i) {
      return std::string(i.param.mode[0] == '_' ? "underscore" : "") +
             (i.param.mode[0] == '_' ? i.param.mode + 1 : i.param.mode);
    });

TEST(Lifecycle, ExitWhileAnotherThreadAllocatesFlatOutStillSaysGoodbye) {
  const Traced run = RunTraced("exit_busy");
  EXPECT_EQ(run.status, 6) << run.err;
  ASSERT_EQ(run.reports.size(), 1u) << run.err;
  const Report& r = run.reports[0];
  EXPECT_EQ(r.process().end(), Process::EXITED);
  EXPECT_EQ(r.process().exit_status(), 6);
  EXPECT_EQ(r.process().how(), "exit");  // the goodbye of the last pass
  ExpectSite(r, "leak_ten", 1000, 10);
  EXPECT_EQ(r.dropped_events(), 0u);
}

TEST(Lifecycle, StaticDestructorsAndAtexitHandlersAreRecorded) {
  const Traced run = RunTraced("atexit");
  EXPECT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.reports.size(), 1u);
  ExpectSite(run.reports[0], "leak_in_destructor", 444, 2);
  ExpectSite(run.reports[0], "leak_in_atexit", 333, 1);
}

TEST(Lifecycle, ExecTracesTheNewProgramAndFlushesTheOldOne) {
  const Traced run = RunTraced("exec");
  EXPECT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.reports.size(), 2u) << run.err;
  const Report* before = ReportOf(run, "leakscope_lifecycle_prog.");
  const Report* after = ReportOf(run, "true.");
  ASSERT_NE(before, nullptr);
  ASSERT_NE(after, nullptr);
  ExpectSite(*before, "leak_ten", 1000, 10);
  EXPECT_EQ(before->process().how(), "exec");
  EXPECT_EQ(after->process().pid(), before->process().pid());
}

TEST(Lifecycle, NoFollowLeavesExecedProgramsUntraced) {
  TempDir dir;
  const int status = Shell(LEAKSCOPE_BIN " run --no-follow -o " + dir.path +
                           " -- " LIFECYCLE_PROG " exec > /dev/null 2>&1");
  EXPECT_EQ(status, 0);
  const std::vector<std::string> names = ReportFiles(dir.path);
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].rfind("leakscope_lifecycle_prog.", 0), 0u);
}

TEST(Lifecycle, ForkFromAThreadedParentGivesEachProcessItsOwnReport) {
  const Traced run = RunTraced("fork");
  EXPECT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.reports.size(), 2u) << run.err;
  const Report* parent = nullptr;
  const Report* child = nullptr;
  for (const Report& r : run.reports) (r.process().forked() ? child : parent) = &r;
  ASSERT_NE(parent, nullptr);
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->process().ppid(), parent->process().pid());
  ExpectSite(*parent, "parent_leak", 1000, 5);
  EXPECT_EQ(SiteOf(*parent, "child_leak"), nullptr);
  ExpectSite(*child, "child_leak", 2100, 7);
  // What the parent allocated before the fork is the child's from then on,
  // as inherited: live, not allocated by it.
  ExpectSite(*child, "parent_leak", 1000, 5);
  EXPECT_EQ(SiteOf(*child, "parent_leak")->inherited_live_allocations(), 5u);
  EXPECT_EQ(SiteOf(*child, "parent_leak")->allocations(), 0u);
  EXPECT_EQ(child->process().end(), Process::EXITED);
}

TEST(Lifecycle, AForkedChildInheritsTheParentsLiveAllocations) {
  const Traced run = RunTraced("fork_inherit");
  EXPECT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.reports.size(), 2u) << run.err;
  const Report* parent = nullptr;
  const Report* child = nullptr;
  for (const Report& r : run.reports) (r.process().forked() ? child : parent) = &r;
  ASSERT_NE(parent, nullptr);
  ASSERT_NE(child, nullptr);

  ExpectSite(*parent, "inherited_site", 100000, 1000);
  EXPECT_EQ(SiteOf(*parent, "inherited_site")->allocations(), 1000u);
  EXPECT_EQ(SiteOf(*parent, "inherited_site")->inherited_live_allocations(), 0u);
  EXPECT_EQ(SiteOf(*parent, "child_site"), nullptr);
  EXPECT_EQ(parent->process().inheritance(), Process::NOT_FORKED);

  EXPECT_EQ(child->process().inheritance(), Process::INHERITED);
  EXPECT_EQ(child->process().parent_pid(), parent->process().pid());
  ExpectSite(*child, "inherited_site", 60000, 600);
  const Site* a = SiteOf(*child, "inherited_site");
  EXPECT_EQ(a->inherited_live_allocations(), 600u);
  EXPECT_EQ(a->inherited_live_bytes(), 60000u);
  EXPECT_EQ(a->allocations(), 0u);  // the parent made them
  EXPECT_EQ(a->allocated_bytes(), 0u);
  ExpectSite(*child, "child_site", 10000, 50);
  const Site* b = SiteOf(*child, "child_site");
  EXPECT_EQ(b->allocations(), 50u);
  EXPECT_EQ(b->inherited_live_allocations(), 0u);
  EXPECT_EQ(child->totals().unmatched_frees(), 0u);
  // Everything the parent held at the marker, of which 400 blocks were freed.
  EXPECT_GE(child->totals().inherited_allocations(), 1000u);
  EXPECT_EQ(child->totals().inherited_allocations() - child->totals().inherited_live_allocations(),
            400u);
  EXPECT_EQ(child->process().end(), Process::EXITED);
  EXPECT_EQ(child->process().exit_status(), 0);
}

TEST(Lifecycle, TwoThreadsForkingAtOnceEachHaveAChildThatInherits) {
  const Traced run = RunTraced("fork_twice_at_once");
  EXPECT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.reports.size(), 3u) << run.err;
  int children = 0;
  for (const Report& r : run.reports) {
    if (!r.process().forked()) continue;
    ++children;
    EXPECT_EQ(r.process().inheritance(), Process::INHERITED);
    ExpectSite(r, "leak_ten", 1000, 10);
    EXPECT_EQ(SiteOf(r, "leak_ten")->inherited_live_allocations(), 10u);
    ExpectSite(r, "child_site", 10000, 50);
    EXPECT_EQ(r.totals().unmatched_frees(), 0u);
  }
  EXPECT_EQ(children, 2);
}

TEST(Lifecycle, ThousandsOfShortLivedThreadsLoseNothingAndLeaveNoMemory) {
  const Traced run = RunTraced("threads 2000");
  EXPECT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.reports.size(), 1u);
  ExpectSite(run.reports[0], "thread_leak", 2000 * 32, 2000);
  EXPECT_EQ(run.reports[0].dropped_events(), 0u);
  // 2000 rings of 512 KiB would be ~1 GiB; recycled rings keep the growth of
  // the whole process (stacks and glibc arenas included) small.
  long growth = 0;
  ASSERT_EQ(sscanf(run.out.c_str(), "rss_growth_kib=%ld", &growth), 1) << run.out;
  EXPECT_LT(growth, 8 * 1024);
}

// Every site whose innermost frame is `function` (a function called from
// several places, or interrupted at several, has one site per call chain).
struct SiteSum {
  uint64_t allocations = 0, live_allocations = 0, live_bytes = 0;
};
SiteSum SumOf(const Report& r, const std::string& function) {
  SiteSum sum;
  for (const Site& s : r.sites()) {
    if (!s.frames_size() || r.frames(int(s.frames(0))).function() != function) continue;
    sum.allocations += s.allocations();
    sum.live_allocations += s.live_allocations();
    sum.live_bytes += s.live_bytes();
  }
  return sum;
}

// Hundreds to thousands of threads allocating at the same time: every ring
// takes part in every drain pass (there was room for 1,024), so no event is
// lost (lossless mode) and no free overtakes its address's reuse on another
// thread (which would show as unmatched frees and blocks left live).
class AllocatingThreads : public testing::TestWithParam<int> {};

TEST_P(AllocatingThreads, LoseNothingAndKeepEveryEventInOrder) {
  const int threads = GetParam();
  const long pairs = 40000 / threads;
  // Without glibc's per-thread cache every free goes back to an arena that
  // ~threads/16 threads share, so addresses pass from thread to thread. The
  // program starves the drain thread (lifecycle_prog.cc): its passes find
  // up to every thread's ring with records.
  const Traced run =
      RunTraced("allocating_threads " + std::to_string(threads) + " " + std::to_string(pairs),
                "GLIBC_TUNABLES=glibc.malloc.tcache_count=0");
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "idle_threads=1\n");  // the drain thread
  ASSERT_EQ(run.reports.size(), 1u);
  const Report& r = run.reports[0];
  EXPECT_EQ(r.dropped_events(), 0u);
  EXPECT_EQ(r.reentrant_events(), 0u);
  EXPECT_EQ(r.totals().unmatched_frees(), 0u);
  const SiteSum churn = SumOf(r, "thread_churn");
  EXPECT_EQ(churn.allocations, uint64_t(threads) * uint64_t(pairs));
  EXPECT_EQ(churn.live_allocations, 0u);
  const SiteSum keep = SumOf(r, "thread_keep");
  EXPECT_EQ(keep.allocations, uint64_t(threads));
  EXPECT_EQ(keep.live_allocations, uint64_t(threads));
  EXPECT_EQ(keep.live_bytes, uint64_t(threads) * 24);
}

INSTANTIATE_TEST_SUITE_P(Lifecycle, AllocatingThreads, testing::Values(500, 2000));

// The shim's own allocations (start-up, attaching a thread, its drain
// thread) are not the program's events: a program without signal handlers
// loses none, so the drain folds its transient allocations without naming
// their addresses (TransientFolder::Mode::kFold), and the report says how
// many it folded.
TEST(Lifecycle, APlainProgramLosesNoEventAndHasItsAllocationsFolded) {
  const Traced run = RunTraced("burst");
  EXPECT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.reports.size(), 1u);
  const Report& r = run.reports[0];
  EXPECT_EQ(r.reentrant_events(), 0u);
  EXPECT_EQ(r.dropped_events(), 0u);
  const SiteSum burst = SumOf(r, "burst");
  EXPECT_EQ(burst.allocations, 200000u);
  EXPECT_EQ(burst.live_allocations, 0u);
  // Each batch of 16 Ki events folds all but the pairs it cuts in two.
  EXPECT_GT(r.totals().folded_allocations(), 200000u * 9 / 10);
  EXPECT_LE(r.totals().folded_allocations(), r.totals().allocations());
  EXPECT_NE(run.err.find("Folded "), std::string::npos) << run.err;
}

// 2,000 queued real-time signals, each handler one allocation kept from
// handler_leak (one site per interrupted call chain). A handler that
// interrupted the shim while it recorded passes through: its allocation is
// lost, and counted in reentrant_events, which counts nothing else (the
// shim's own allocations are not the program's). So every one is accounted
// for, exactly.
TEST(Lifecycle, SignalHandlersThatAllocateNeitherDeadlockNorCorruptTheRing) {
  const Traced run = RunTraced("signals");
  EXPECT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.reports.size(), 1u);
  int sent = 0, delivered = 0;
  ASSERT_EQ(sscanf(run.out.c_str(), "sent=%d delivered=%d", &sent, &delivered), 2) << run.out;
  EXPECT_EQ(sent, 2000);
  EXPECT_EQ(delivered, sent);
  const Report& r = run.reports[0];
  ExpectSite(r, "leak_ten", 1000, 10);  // the stream stayed intact
  const SiteSum handler = SumOf(r, "handler_leak");
  EXPECT_EQ(handler.live_allocations, handler.allocations);
  EXPECT_EQ(handler.live_bytes, handler.allocations * 48);
  EXPECT_EQ(handler.allocations + r.reentrant_events(), uint64_t(delivered));
  EXPECT_EQ(r.dropped_events(), 0u);
}

TEST(Lifecycle, StacksIntoADlclosedLibraryStillSymbolize) {
  const Traced run = RunTraced("plugin " PLUGIN_PATH);
  EXPECT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.reports.size(), 1u);
  const Report& r = run.reports[0];
  const Site* s = SiteOf(r, "plugin_leak");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->live_bytes(), 512u);
  EXPECT_EQ(s->live_allocations(), 4u);
  const report::Frame& f = r.frames(int(s->frames(0)));
  EXPECT_EQ(f.file().substr(f.file().rfind('/') + 1), "plugin.c");
  EXPECT_EQ(f.line(), uint32_t(PLUGIN_LEAK_LINE));
  EXPECT_EQ(f.module(), PLUGIN_PATH);
}

TEST(Lifecycle, AProcessKilledByItsMemoryLimitStillHasItsReport) {
  const Traced run = RunTraced("memlimit");
  EXPECT_EQ(run.status, 128 + SIGABRT) << run.err;
  ASSERT_EQ(run.reports.size(), 1u);
  const Report& r = run.reports[0];
  EXPECT_EQ(r.process().end(), Process::SIGNALED);
  const Site* s = SiteOf(r, "grow_until_bad_alloc");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->live_bytes(), s->live_allocations() << 20);
  EXPECT_GE(s->live_bytes(), 512ull << 20);  // most of the 1 GiB address space
}

// A tiny ring (8 KiB) drained every 100 ms cannot hold a burst of 400,000
// events: by default they are dropped, counted, and the report says so;
// lossless mode (leakscope run's default) makes the thread wait instead.
TEST(Lifecycle, AFullRingDropsAndCountsUnlessLossless) {
  const std::string small = "LEAKSCOPE_RING_KB=8 LEAKSCOPE_FLUSH_MS=100";
  const Traced lossy = RunTraced("burst", small, "--lossy");
  EXPECT_EQ(lossy.status, 0) << lossy.err;
  ASSERT_EQ(lossy.reports.size(), 1u);
  const Report& r = lossy.reports[0];
  const Site* b = SiteOf(r, "burst");
  const uint64_t recorded = b ? b->allocations() : 0;
  EXPECT_GT(r.dropped_events(), 0u);
  EXPECT_LT(recorded, 200000u);
  EXPECT_NE(lossy.err.find("Integrity    INCOMPLETE: "), std::string::npos) << lossy.err;
  ExpectSite(r, "leak_ten", 1000, 10);  // what was recorded is still right

  const Traced lossless = RunTraced("burst", small);
  EXPECT_EQ(lossless.status, 0) << lossless.err;
  ASSERT_EQ(lossless.reports.size(), 1u);
  EXPECT_EQ(lossless.reports[0].dropped_events(), 0u);
  const Site* all = SiteOf(lossless.reports[0], "burst");
  ASSERT_NE(all, nullptr);
  EXPECT_EQ(all->allocations(), 200000u);
  EXPECT_EQ(all->live_allocations(), 0u);
}

TEST(Lifecycle, WithoutACollectorTheProgramRunsUnharmed) {
  TempDir dir;
  const std::string prog = LIFECYCLE_PROG " threads 200 > " + dir.path + "/out";
  EXPECT_EQ(Shell("LD_PRELOAD=" SHIM_PATH " LEAKSCOPE_SOCKET=" + dir.path + "/nobody " + prog), 0);
  EXPECT_EQ(Slurp(dir.path + "/out").rfind("rss_growth_kib=", 0), 0u);
  EXPECT_EQ(Shell("LD_PRELOAD=" SHIM_PATH " LEAKSCOPE_SOCKET=" + dir.path +
                  "/nobody " LIFECYCLE_PROG " return"),
            3);
}

// The daemon is killed mid-run and started again: the program carries on,
// the shim reconnects, and the second daemon's report counts what was lost.
TEST(Lifecycle, ACollectorThatDiesAndComesBackIsReconnected) {
  TempDir dir;
  const std::string sock = dir.path + "/s";
  const std::string daemon = LEAKSCOPED_BIN " --socket " + sock + " --output " + dir.path;
  ASSERT_EQ(Shell(daemon + " < /dev/null > /dev/null 2>&1 & echo $! > " + dir.path + "/d1; " +
                  "for i in $(seq 100); do [ -S " + sock + " ] && break; sleep 0.05; done; [ -S " +
                  sock + " ]"),
            0);
  // Feed the program a line at a time; kill the daemon after 5 lines, restart
  // it, feed 25 more over 2.5 s (the shim retries once a second).
  const std::string script =
      "( for i in $(seq 5); do echo x; sleep 0.1; done; kill -9 $(cat " + dir.path +
      "/d1); rm -f " + sock + "; sleep 0.2; for i in $(seq 5); do echo x; sleep 0.1; done; " +
      daemon + " < /dev/null > /dev/null 2>&1 & echo $! > " + dir.path +
      "/d2; for i in $(seq 25); do echo x; sleep 0.1; done ) | " +
      "LD_PRELOAD=" SHIM_PATH " LEAKSCOPE_SAMPLE_INTERVAL=1 LEAKSCOPE_SOCKET=" + sock +
      " " LIFECYCLE_PROG " wait_stdin > " + dir.path + "/out; echo $? > " + dir.path + "/rc";
  Shell(script);
  Shell("kill -TERM $(cat " + dir.path + "/d2); while kill -0 $(cat " + dir.path +
        "/d2) 2>/dev/null; do sleep 0.05; done");
  EXPECT_EQ(Slurp(dir.path + "/rc"), "0\n");
  size_t oks = 0;
  for (size_t p = 0; (p = Slurp(dir.path + "/out").find("ok\n", p)) != std::string::npos; ++p)
    ++oks;
  EXPECT_EQ(oks, 35u);
  Traced run;
  ReadReports(dir.path, &run);
  ASSERT_EQ(run.reports.size(), 1u);  // the first daemon was killed before writing
  const Report& r = run.reports[0];
  const Site* s = SiteOf(r, "leak_ten");
  ASSERT_NE(s, nullptr);
  EXPECT_GE(s->live_allocations(), 100u);     // at least the last 10 lines
  EXPECT_LT(s->live_allocations(), 360u);     // not the ones sent to the first daemon
  EXPECT_EQ(s->live_allocations() % 10, 0u);  // whole lines, nothing torn
  EXPECT_GT(r.dropped_events(), 0u);          // the outage was counted
}

// posix_spawn and vfork children share the parent's memory (shim state
// included) until they exec: each exec'd child has its own report, and a
// vfork child whose exec failed (it leaves with _exit) must not end the
// parent's tracing.
TEST(Lifecycle, PosixSpawnAndVforkChildrenThatExecAreTracedAndTheParentGoesOn) {
  const Traced run = RunTraced("", "", "", SPAWN_PROG);
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_EQ(run.out, "parent done\n");
  ASSERT_EQ(run.reports.size(), 3u) << run.err;
  const Report* parent = nullptr;
  std::vector<const Report*> children;
  for (const Report& r : run.reports) {
    if (SiteOf(r, "child_leak")) {
      children.push_back(&r);
    } else {
      parent = &r;
    }
  }
  ASSERT_NE(parent, nullptr);
  ASSERT_EQ(children.size(), 2u);
  ExpectSite(*parent, "before_children", 6400, 100);
  ExpectSite(*parent, "after_children", 1600, 50);  // still recording after the children
  EXPECT_EQ(parent->process().end(), Process::EXITED);
  EXPECT_EQ(parent->process().exit_status(), 0);
  for (const Report* c : children) {
    ExpectSite(*c, "child_leak", 1280, 10);
    EXPECT_EQ(SiteOf(*c, "before_children"), nullptr);
    EXPECT_EQ(c->process().ppid(), parent->process().pid());
    EXPECT_EQ(c->process().end(), Process::EXITED);
  }
}

// A program that daemonizes (fork, the parent exits at once): `leakscope run`
// waits for the daemon too, so its report is whole, not cut at the parent's
// exit.
TEST(Lifecycle, RunWaitsForADaemonThatOutlivesTheCommand) {
  const Traced run = RunTraced("daemonize");
  EXPECT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.reports.size(), 2u) << run.err;
  const Report* daemon = nullptr;
  for (const Report& r : run.reports)
    if (r.process().forked()) daemon = &r;
  ASSERT_NE(daemon, nullptr);
  ExpectSite(*daemon, "daemon_leak", 300, 3);
  EXPECT_EQ(daemon->process().end(), Process::EXITED);
  EXPECT_EQ(daemon->process().exit_status(), 0);
  EXPECT_NE(run.err.find("leakscope run: the command exited; still traced: "), std::string::npos)
      << run.err;
}

// Paths and arguments need not be UTF-8: the stream and the report carry them
// as bytes (a proto3 string field would make the collector drop the stream).
TEST(Lifecycle, ArgumentsThatAreNotUtf8KeepTheStreamWhole) {
  const Traced run = RunTraced("return \"$(printf '\\377\\376')\"");
  EXPECT_EQ(run.status, 3) << run.err;
  ASSERT_EQ(run.reports.size(), 1u) << run.err;
  const Report& r = run.reports[0];
  ASSERT_EQ(r.process().argv_size(), 3);
  EXPECT_EQ(r.process().argv(2), "\xff\xfe");
  ExpectSite(r, "leak_ten", 1000, 10);
}

// Two call chains reach malloc at the same depth and stack pointer; chain_a
// leaves a copy of its return address where chain_b's frame does not write
// (programs/stack_chains_prog.c). Each keeps its own site: the stack cache
// must not give chain_b's allocation chain_a's stack.
TEST(Lifecycle, CallChainsAtOneStackPointerKeepTheirOwnStacks) {
  const Traced run = RunTraced("", "", "", STACK_CHAINS_PROG);
  EXPECT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.reports.size(), 1u) << run.err;
  const Report& r = run.reports[0];
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_caller;  // of leaf: bytes, count
  for (const Site& s : r.sites()) {
    if (s.frames_size() < 2 || r.frames(int(s.frames(0))).function() != "leaf") continue;
    auto& [bytes, count] = by_caller[r.frames(int(s.frames(1))).function()];
    bytes += s.live_bytes();
    count += s.live_allocations();
  }
  EXPECT_EQ(by_caller["chain_a"], std::make_pair(uint64_t{3 * 24}, uint64_t{3}));
  EXPECT_EQ(by_caller["chain_b"], std::make_pair(uint64_t{40}, uint64_t{1}));
  EXPECT_EQ(by_caller.size(), 2u);
}

// Call chains that cross frames without unwind tables, as Node.js's cross
// V8's JIT code (programs/table_less_prog.c): the leak site, its bytes, and
// every caller through those frames and beyond, on main's stack (after its
// first misses) and on a thread's (during them).
TEST(Lifecycle, StacksThroughFramesWithoutUnwindTablesAreWhole) {
  const Traced run = RunTraced("", "", "", TABLE_LESS_PROG);
  EXPECT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.reports.size(), 1u) << run.err;
  const Report& r = run.reports[0];
  std::map<std::string, std::pair<uint64_t, uint64_t>> by_origin;  // bytes, count
  for (const Site& s : r.sites()) {
    if (s.frames_size() < 5 || r.frames(int(s.frames(0))).function() != "leaf") continue;
    const report::Frame& leaf = r.frames(int(s.frames(0)));
    EXPECT_EQ(leaf.file().substr(leaf.file().rfind('/') + 1), "table_less_prog.c");
    EXPECT_EQ(leaf.line(), uint32_t(TABLE_LESS_LEAF_LINE));
    EXPECT_EQ(r.frames(int(s.frames(1))).function(), "through_tables");
    EXPECT_EQ(r.frames(int(s.frames(2))).function(), "table_less_inner");
    EXPECT_EQ(r.frames(int(s.frames(3))).function(), "table_less_outer");
    const std::string origin = r.frames(int(s.frames(4))).function();
    if (origin == "from_main") {
      ASSERT_GE(s.frames_size(), 6);
      EXPECT_EQ(r.frames(int(s.frames(5))).function(), "main");
    }
    auto& [bytes, count] = by_origin[origin];
    bytes += s.live_bytes();
    count += s.live_allocations();
  }
  EXPECT_EQ(by_origin["from_main"], std::make_pair(uint64_t{5 * 48}, uint64_t{5}));
  EXPECT_EQ(by_origin["from_thread"], std::make_pair(uint64_t{3 * 80}, uint64_t{3}));
  EXPECT_EQ(by_origin.size(), 2u);
}

}  // namespace
}  // namespace leakscope
