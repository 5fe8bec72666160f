// The shim must not change what the traced program can do or see: threads
// whose first allocation is inside glibc's own locks, every pthread key, the
// loader's allocations, libraries loaded RTLD_DEEPBIND, a crash while the
// shim is busy elsewhere. Each case runs tests/preload/programs/
// unharmed_prog.c bare and under `leakscope run`.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "report_file.h"
#include "run_process.h"

namespace leakscope {
namespace {

using api_testing::FilesEndingWith;
using api_testing::ProcessResult;
using api_testing::RunProcess;
using api_testing::ScratchDir;
using report::Process;
using report::Report;
using report::Site;

// A run that hangs is killed: the test then fails on its status instead of
// hanging the suite.
constexpr const char* kTimeout = "60";

struct Traced {
  ProcessResult result;
  std::vector<Report> reports;
};

ProcessResult RunBare(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/timeout", "-s", "KILL", kTimeout, UNHARMED_PROG};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

Traced RunTraced(const std::vector<std::string>& args) {
  ScratchDir dir;
  Traced run;
  std::vector<std::string> argv = {
      "/usr/bin/timeout", "-s", "KILL",       kTimeout, LEAKSCOPE_BIN, "run", "-o",
      dir.path(),         "--", UNHARMED_PROG};
  argv.insert(argv.end(), args.begin(), args.end());
  run.result = RunProcess(argv);
  for (const std::string& name : FilesEndingWith(dir.path(), ".lsr")) {
    Report r;
    std::string error;
    EXPECT_TRUE(report::ReadReportFile(dir.path() + "/" + name, &r, &error)) << error;
    run.reports.push_back(r);
  }
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

// The program's mappings at one function (summed over its stacks).
report::MappingSite MappingsAt(const Report& r, const std::string& function) {
  report::MappingSite sum;
  for (const report::MappingSite& s : r.mappings().sites()) {
    bool at = false;  // any frame: MapPages may or may not be inlined into it
    for (uint32_t f : s.frames()) at = at || r.frames(int(f)).function() == function;
    if (!at) continue;
    sum.set_live_bytes(sum.live_bytes() + s.live_bytes());
    sum.set_live_mappings(sum.live_mappings() + s.live_mappings());
    sum.set_mappings(sum.mappings() + s.mappings());
    sum.set_inherited_live_bytes(sum.inherited_live_bytes() + s.inherited_live_bytes());
  }
  return sum;
}

// mmap and munmap from a signal handler that interrupts the program's own
// malloc, free, mmap and munmap (and the shim recording them): no deadlock,
// no crash, and the handler's pairs never leave a mapping behind.
TEST(Unharmed, MappingsMadeInSignalHandlersAreSafe) {
  const Traced run = RunTraced({"mmap_signals"});
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(run.result.output.rfind("signals=2000\n", 0), 0u) << run.result.output;
  ASSERT_EQ(run.reports.size(), 1u);
  const Report& r = run.reports[0];
  ExpectSite(r, "leak_five", 5 * 40, 5);
  EXPECT_EQ(r.mappings().live_bytes(), 3 * 4096u);
  EXPECT_EQ(r.mappings().live_mappings(), 1u);
  const report::MappingSite kept = MappingsAt(r, "map_kept");
  EXPECT_EQ(kept.live_bytes(), 3 * 4096u);
  EXPECT_EQ(kept.mappings(), 1u);
}

// A forked child starts with its parent's mappings, as inherited.
TEST(Unharmed, AForkedChildInheritsTheProgramsMappings) {
  const Traced run = RunTraced({"mmap_fork"});
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  ASSERT_EQ(run.reports.size(), 2u);
  const Report& child = run.reports[0].process().forked() ? run.reports[0] : run.reports[1];
  const Report& parent = run.reports[0].process().forked() ? run.reports[1] : run.reports[0];
  EXPECT_EQ(MappingsAt(parent, "map_kept").live_bytes(), 3 * 4096u);
  const report::MappingSite inherited = MappingsAt(child, "map_kept");
  EXPECT_EQ(inherited.live_bytes(), 2 * 4096u);
  EXPECT_EQ(inherited.inherited_live_bytes(), 2 * 4096u);
  EXPECT_EQ(inherited.live_mappings(), 1u);
  EXPECT_EQ(inherited.mappings(), 0u);  // the parent's call
  const report::MappingSite own = MappingsAt(child, "child_map");
  EXPECT_EQ(own.live_bytes(), 4096u);
  EXPECT_EQ(own.mappings(), 1u);
  EXPECT_EQ(child.mappings().live_bytes(), 3 * 4096u);
}

// The JVM's threads call pthread_getattr_np first thing; glibc reallocs its
// cpuset there while holding the thread's lock. The shim used to look up the
// thread's stack with pthread_getattr_np at that very allocation: deadlock.
TEST(Unharmed, AThreadWhoseFirstAllocationIsInsidePthreadGetattrNpRunsOn) {
  const Traced run = RunTraced({"getattr_thread"});
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(run.result.output.rfind("joined\n", 0), 0u) << run.result.output;  // then the summary
  ASSERT_EQ(run.reports.size(), 1u) << run.result.output;
  ExpectSite(run.reports[0], "leak_five", 5 * 40, 5);
  ExpectSite(run.reports[0], "attr_thread_leak", 3 * 77, 3);
}

// A thread's pthread key destructors run after its start routine ended, when
// the shim has released its ring: their frees still count (the thread gets a
// ring the drain releases once the thread is gone).
TEST(Unharmed, FreesInAThreadsKeyDestructorsAreRecorded) {
  const Traced run = RunTraced({"key_destructors"});
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(run.result.output.rfind("threads=200\n", 0), 0u) << run.result.output;
  ASSERT_EQ(run.reports.size(), 1u) << run.result.output;
  const Report& r = run.reports[0];
  const Site* s = SiteOf(r, "key_value");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->allocations(), 200u);
  EXPECT_EQ(s->live_allocations(), 0u);
  EXPECT_EQ(r.dropped_events(), 0u);
}

// The program's `keys=N atexit_without_allocating=A dlopen_bytes=M` line.
struct KeysLine {
  int keys = -1;
  int atexits = -1;
};
KeysLine ParseKeys(const std::string& output) {
  KeysLine k;
  const size_t at = output.find("keys=");
  if (at != std::string::npos)
    std::sscanf(output.c_str() + at, "keys=%d atexit_without_allocating=%d", &k.keys, &k.atexits);
  return k;
}

// The shim used a pthread key to see threads end, mimalloc (its own heap)
// and libunwind one each: a program that creates keys until refused got
// three fewer. mimalloc also registered an atexit handler, one of the 32 that
// glibc keeps without allocating.
TEST(Unharmed, AProgramGetsAsManyPthreadKeysAndAtexitSlotsAsWithoutTheShim) {
  const ProcessResult bare = RunBare({"keys", UNHARMED_LIB});
  ASSERT_EQ(bare.exit_status, 0) << bare.output;
  const KeysLine expected = ParseKeys(bare.output);
  ASSERT_GT(expected.keys, 0) << bare.output;
  ASSERT_GT(expected.atexits, 0) << bare.output;
  const Traced run = RunTraced({"keys", UNHARMED_LIB});
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(ParseKeys(run.result.output).keys, expected.keys) << run.result.output;
  EXPECT_EQ(ParseKeys(run.result.output).atexits, expected.atexits) << run.result.output;
  ASSERT_EQ(run.reports.size(), 1u) << run.result.output;
  ExpectSite(run.reports[0], "leak_five", 5 * 40, 5);
}

// Loaded RTLD_DEEPBIND, the library's malloc and free bound to libc's: the
// 35 B string it frees was reported as a leak, its own 4 x 50 B unseen.
TEST(Unharmed, ALibraryLoadedWithDeepbindHasItsMallocAndFreeTraced) {
  const Traced run = RunTraced({"deepbind", UNHARMED_LIB});
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  // One warning line, then the program's own output.
  EXPECT_EQ(run.result.output.find("leakscope: dlopen(\"" UNHARMED_LIB "\") without RTLD_DEEPBIND"),
            0u)
      << run.result.output;
  EXPECT_NE(run.result.output.find("\ndone\n"), std::string::npos) << run.result.output;
  ASSERT_EQ(run.reports.size(), 1u) << run.result.output;
  const Report& r = run.reports[0];
  ExpectSite(r, "deep_keep", 4 * 50, 4);
  ExpectSite(r, "leak_five", 5 * 40, 5);
  for (const Site& s : r.sites()) EXPECT_NE(s.live_bytes(), 35u) << "the freed string";
}

// glibc's dlopen finds a bare name through the RUNPATH of the object that
// called it, which it learns from its return address: the shim's dlopen
// wrapper made itself the caller, and the library's sibling was not found.
TEST(Unharmed, ALibraryDlopensItsSiblingThroughItsOwnRunpath) {
  const ProcessResult bare = RunBare({"runpath", UNHARMED_LOADER});
  ASSERT_EQ(bare.exit_status, 0) << bare.output;
  ASSERT_EQ(bare.output, "sibling=1\n");
  const Traced run = RunTraced({"runpath", UNHARMED_LOADER});
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(run.result.output.rfind("sibling=1\n", 0), 0u) << run.result.output;
  ASSERT_EQ(run.reports.size(), 1u) << run.result.output;
  ExpectSite(run.reports[0], "deep_keep", 4 * 50, 4);  // the map has the library
}

// A library loaded by a relative path is named by its absolute path, found
// without calling the program's realpath() (or any function the program may
// interpose) inside the loader's lock: a realpath calling dlsym deadlocked
// against a thread inside dlopen.
TEST(Unharmed, ALibraryLoadedByARelativePathIsNamedWithoutTheProgramsRealpath) {
  const Traced run = RunTraced({"relative_dlopen", UNHARMED_LIB});
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(run.result.output.find("realpath called"), std::string::npos) << run.result.output;
  ASSERT_EQ(run.reports.size(), 1u) << run.result.output;
  ExpectSite(run.reports[0], "deep_keep", 4 * 50, 4);  // symbolized: the path was right
  ExpectSite(run.reports[0], "leak_five", 5 * 40, 5);
}

// A fatal signal while another thread holds the loader's lock for good: the
// drain's module map refresh waits for that lock, and the exit path used to
// refresh too (or wait for the drain pass that did), so the goodbye never came.
TEST(Unharmed, ACrashWhileAnotherThreadHoldsTheLoaderStillEndsTheReport) {
  const Traced run = RunTraced({"crash_loader_held"});
  EXPECT_EQ(run.result.exit_status, 128 + SIGSEGV) << run.result.output;
  ASSERT_EQ(run.reports.size(), 1u) << run.result.output;
  const Report& r = run.reports[0];
  EXPECT_EQ(r.process().end(), Process::SIGNALED);
  EXPECT_EQ(r.process().signal(), SIGSEGV);
  EXPECT_EQ(r.process().how(), "signal SIGSEGV");  // said by the shim's goodbye
  ExpectSite(r, "leak_five", 5 * 40, 5);
}

// The same with _exit, which flushes on the same path.
TEST(Unharmed, AnExitWhileAnotherThreadHoldsTheLoaderStillEndsTheReport) {
  const Traced run = RunTraced({"exit_loader_held"});
  EXPECT_EQ(run.result.exit_status, 7) << run.result.output;
  ASSERT_EQ(run.reports.size(), 1u) << run.result.output;
  const Report& r = run.reports[0];
  EXPECT_EQ(r.process().end(), Process::EXITED);
  EXPECT_EQ(r.process().exit_status(), 7);
  EXPECT_EQ(r.process().how(), "_exit");  // said by the shim's goodbye
  ExpectSite(r, "leak_five", 5 * 40, 5);
}

// The bytes live at sites whose stack passes through child_leak (unharmed_prog.c).
uint64_t ChildLeakBytes(const Report& r, uint64_t* count = nullptr, uint64_t* sites = nullptr) {
  uint64_t bytes = 0, n = 0, chains = 0;
  for (const Site& s : r.sites()) {
    bool through = false;
    for (uint64_t f : s.frames()) through |= r.frames(int(f)).function() == "child_leak";
    if (!through) continue;
    bytes += s.live_bytes();
    n += s.live_allocations();
    ++chains;
  }
  if (count) *count = n;
  if (sites) *sites = chains;
  return bytes;
}

// A mode whose child runs child_leak() and exits 0: bare and traced print
// the same, and the forked child's report (one of two) ended with exit 0.
void RunForkingMode(const std::string& mode, Report* child) {
  const ProcessResult bare = RunBare({mode});
  ASSERT_EQ(bare.exit_status, 0) << bare.output;
  ASSERT_EQ(bare.output, "child ok\nchild status 0\n");
  const Traced run = RunTraced({mode});
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(run.result.output.rfind(bare.output, 0), 0u) << run.result.output;
  ASSERT_EQ(run.reports.size(), 2u) << run.result.output;
  const Report* forked = nullptr;
  for (const Report& r : run.reports)
    if (r.process().forked()) forked = &r;
  ASSERT_NE(forked, nullptr) << run.result.output;
  EXPECT_EQ(forked->process().end(), Process::EXITED);
  EXPECT_EQ(forked->process().exit_status(), 0);
  *child = *forked;
}

// A fork while another thread is inside dl_iterate_phdr: the child inherits
// the loader's lock held by a thread it does not have. The child used to hang
// at its first stack the shim had not seen (libunwind looks tables up with
// dl_iterate_phdr) and in the drain's module map refresh; it must run as
// bare, and its allocations at new call chains keep their stacks.
TEST(Unharmed, AForkWhileAnotherThreadHoldsTheLoaderLeavesTheChildRunning) {
  Report child;
  ASSERT_NO_FATAL_FAILURE(RunForkingMode("fork_loader_held", &child));
  // child_leak: 7 x 33 B, one call chain per depth 0..6, each through child_leak.
  uint64_t count = 0, chains = 0;
  EXPECT_EQ(ChildLeakBytes(child, &count, &chains), 7u * 33);
  EXPECT_EQ(count, 7u);
  EXPECT_EQ(chains, 7u);
  ExpectSite(child, "leak_five", 5 * 40, 5);  // inherited from the parent
}

// A forked worker that drops its privileges at once (the program's own
// fork child handler, which runs right after the shim's) can no longer
// reach `leakscope run`'s private socket. The child used to connect from
// its drain thread's first pass, usually too late: no report for it (seen
// with nginx's workers under load). It connects in the shim's handler now.
TEST(Unharmed, AForkedChildThatDropsItsPrivilegesAtOnceStillGetsItsReport) {
  ASSERT_EQ(geteuid(), 0u) << "needs root: the child switches to uid 65534";
  Report child;
  ASSERT_NO_FATAL_FAILURE(RunForkingMode("fork_drop_privileges", &child));
  EXPECT_EQ(ChildLeakBytes(child), 7u * 33);
  ExpectSite(child, "leak_five", 5 * 40, 5);  // inherited from the parent
}

}  // namespace
}  // namespace leakscope
