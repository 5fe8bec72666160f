// The shim's own heap (mimalloc) must stay out of the program's view: not in
// its link map, not changing what ld.so allocates at the program's dlopen, no
// pthread key taken, and it must serve threads that existed before it was
// loaded, the program itself (LEAKSCOPE_ALLOCATOR=mimalloc) and forked
// children. Each case runs tests/preload/programs/private_heap_prog.c bare
// and under `leakscope run`, with the shim's default allocator and with
// mimalloc for the program.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "report_file.h"
#include "run_process.h"

namespace leakscope {
namespace {

using api_testing::FilesEndingWith;
using api_testing::LinesWith;
using api_testing::ProcessResult;
using api_testing::RunProcess;
using api_testing::ScratchDir;
using report::Report;
using report::Site;

// A run that hangs is killed: the test then fails on its status.
constexpr const char* kTimeout = "60";

struct Traced {
  ProcessResult result;
  std::vector<Report> reports;
};

ProcessResult RunBare(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/timeout", "-s", "KILL", kTimeout, PRIVATE_HEAP_PROG};
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(argv);
}

Traced RunTraced(const std::vector<std::string>& args, const std::string& allocator) {
  ScratchDir dir;
  Traced run;
  std::vector<std::string> argv = {
      "/usr/bin/timeout", "-s", "KILL",           kTimeout, LEAKSCOPE_BIN, "run", "-o",
      dir.path(),         "--", PRIVATE_HEAP_PROG};
  argv.insert(argv.end(), args.begin(), args.end());
  // "default": the variable unset.
  run.result =
      RunProcess(argv, {"LEAKSCOPE_ALLOCATOR=" + (allocator == "default" ? "" : allocator)});
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

// The value of `name=` on the first line that has it, or "".
std::string Value(const std::string& output, const std::string& name) {
  const std::vector<std::string> lines = LinesWith(output, name + "=");
  if (lines.empty()) return "";
  const std::string& line = lines[0];
  return line.substr(line.find(name + "=") + name.size() + 1);
}

std::set<std::string> Modules(const std::string& output) {
  std::set<std::string> names;
  for (const std::string& line : LinesWith(output, "module="))
    names.insert(line.substr(line.find('=') + 1));
  return names;
}

class PrivateHeap : public ::testing::TestWithParam<std::string> {};

// Loaded with dlopen(RTLD_LOCAL), mimalloc was one of the program's modules
// (dl_iterate_phdr listed libmimalloc.so.2), with or without
// LEAKSCOPE_ALLOCATOR=mimalloc.
TEST_P(PrivateHeap, MimallocIsNoModuleOfTheProgram) {
  const ProcessResult bare = RunBare({"modules", PRIVATE_HEAP_LIB});
  ASSERT_EQ(bare.exit_status, 0) << bare.output;
  const std::set<std::string> expected = Modules(bare.output);
  ASSERT_EQ(expected.count("libleakscope_private_heap_plugin.so"), 1u) << bare.output;
  const Traced run = RunTraced({"modules", PRIVATE_HEAP_LIB}, GetParam());
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  const std::set<std::string> seen = Modules(run.result.output);
  EXPECT_EQ(seen.count("libleakscope.so"), 1u) << run.result.output;
  for (const std::string& name : expected) EXPECT_EQ(seen.count(name), 1u) << name;
  for (const std::string& name : seen)
    EXPECT_TRUE(name.find("mimalloc") == std::string::npos) << name;
  ASSERT_EQ(run.reports.size(), 1u) << run.result.output;
  ExpectSite(run.reports[0], "leak_five", 5 * 40, 5);
}

// The program's pthread keys: all PTHREAD_KEYS_MAX of them, as bare
// (mimalloc's key is emulated, the shim takes none).
TEST_P(PrivateHeap, AProgramGetsAsManyPthreadKeysAsWithoutTheShim) {
  const ProcessResult bare = RunBare({"keys"});
  ASSERT_EQ(bare.exit_status, 0) << bare.output;
  ASSERT_EQ(Value(bare.output, "keys"), "1024") << bare.output;
  const Traced run = RunTraced({"keys"}, GetParam());
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(Value(run.result.output, "keys"), "1024") << run.result.output;
  ASSERT_EQ(run.reports.size(), 1u) << run.result.output;
  ExpectSite(run.reports[0], "leak_five", 5 * 40, 5);
}

// Threads a constructor started before the shim's ran (and so before
// mimalloc was loaded) allocate, reallocate and free through the shim next to
// threads started afterwards; every leaked block is reported.
TEST_P(PrivateHeap, ThreadsStartedBeforeAndAfterTheShimsStartAllocate) {
  const Traced run = RunTraced({"threads"}, GetParam());
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(run.result.output.rfind("threads early=8 late=8\n", 0), 0u) << run.result.output;
  ASSERT_EQ(run.reports.size(), 1u) << run.result.output;
  const Report& r = run.reports[0];
  ExpectSite(r, "leak_five", 5 * 40, 5);
  ExpectSite(r, "early_thread_leak", 8 * 3 * 48, 8 * 3);
  ExpectSite(r, "late_thread_leak", 8 * 3 * 56, 8 * 3);
  EXPECT_EQ(r.dropped_events(), 0u);
}

// A forked child allocates and leaks through the shim (and mimalloc).
TEST_P(PrivateHeap, AForkedChildAllocatesThroughTheShim) {
  const Traced run = RunTraced({"fork"}, GetParam());
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(run.result.output.rfind("child=0\n", 0), 0u) << run.result.output;
  ASSERT_EQ(run.reports.size(), 2u) << run.result.output;
  const auto child = std::find_if(run.reports.begin(), run.reports.end(),
                                  [](const Report& r) { return SiteOf(r, "child_leak"); });
  ASSERT_NE(child, run.reports.end()) << run.result.output;
  ExpectSite(*child, "child_leak", 3 * 72, 3);
}

INSTANTIATE_TEST_SUITE_P(Allocators, PrivateHeap, ::testing::Values("default", "mimalloc"),
                         [](const ::testing::TestParamInfo<std::string>& p) { return p.param; });

// ld.so's allocations at the program's dlopen: with mimalloc in the link map
// they differed from the bare run's (32 B fewer here).
TEST(PrivateHeapLoader, AllocatesAsMuchForTheProgramsDlopenAsWithoutTheShim) {
  const ProcessResult bare = RunBare({"modules", PRIVATE_HEAP_LIB});
  ASSERT_EQ(bare.exit_status, 0) << bare.output;
  const std::string expected = Value(bare.output, "dlopen_bytes");
  ASSERT_NE(expected, "") << bare.output;
  ASSERT_NE(expected, "0") << bare.output;
  const Traced run = RunTraced({"modules", PRIVATE_HEAP_LIB}, "default");
  EXPECT_EQ(run.result.exit_status, 0) << run.result.output;
  EXPECT_EQ(Value(run.result.output, "dlopen_bytes"), expected) << run.result.output;
}

}  // namespace
}  // namespace leakscope
