// The C library's own one-time allocations (ld.so's tables for a dlopen'd
// library, time zone data, libgcc_s loaded by backtrace()) are runtime
// internals, recognised by their stacks (viewer/default_internals.supp): the
// program's own leak next to them is reported exactly, they are not.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli_runner.h"
#include "report_file.h"
#include "site_table.h"

namespace leakscope::viewer {
namespace {

using testing::CliResult;
using testing::RunLeakscope;
using testing::TempDir;

struct Traced {
  CliResult run;
  std::string path;
  report::Report report;
};

Traced RunTraced(const std::vector<std::string>& args, const TempDir& out) {
  Traced t;
  std::vector<std::string> argv = {"run", "-o", out.path(), "--", GLIBC_INTERNALS};
  argv.insert(argv.end(), args.begin(), args.end());
  t.run = RunLeakscope(argv);
  const std::vector<std::string> files = out.Files();
  EXPECT_EQ(files.size(), 1u);
  if (files.size() != 1) return t;
  t.path = out.path() + "/" + files[0];
  std::string error;
  EXPECT_TRUE(report::ReadReportFile(t.path, &t.report, &error)) << error;
  return t;
}

bool HasFrame(const report::Report& report, const SiteRow& row, const std::string& function) {
  for (uint32_t index : row.frames)
    if (report.frames(static_cast<int>(index)).function() == function) return true;
  return false;
}

// The only leak counted is own_leak's 100 B; the internals hold memory at
// sites through `internal_function`, and are shown apart.
void ExpectOnlyTheProgramsLeak(const Traced& t, const std::string& internal_function) {
  EXPECT_EQ(t.run.exit_status, 0) << t.run.err;
  const SiteTable table = BuildSiteTable(t.report, SiteFilter{});
  const std::vector<const SiteRow*> leaks = Surviving(table.program);
  ASSERT_EQ(leaks.size(), 1u) << t.run.err;
  EXPECT_EQ(leaks[0]->live_bytes, 100u);
  EXPECT_EQ(leaks[0]->live_allocations, 1u);
  const int call = CallFrame(t.report, leaks[0]->frames);
  ASSERT_GE(call, 0);
  EXPECT_EQ(
      t.report.frames(static_cast<int>(leaks[0]->frames[static_cast<size_t>(call)])).function(),
      "own_leak");
  uint64_t internal_bytes = 0;
  for (const SiteRow* row : Surviving(table.internals))
    if (HasFrame(t.report, *row, internal_function)) internal_bytes += row->live_bytes;
  EXPECT_GT(internal_bytes, 0u) << "no internal site through " << internal_function;

  EXPECT_EQ(RunLeakscope({"check", t.path, "--max-leaked", "100"}).exit_status, 0);
  EXPECT_EQ(RunLeakscope({"check", t.path, "--max-leaked", "99"}).exit_status, 1);
}

TEST(GlibcInternals, DlopenTablesAreInternal) {
  TempDir out;
  ExpectOnlyTheProgramsLeak(RunTraced({"dlopen", GLIBC_INTERNALS_PLUGIN}, out), "_dl_open");
}

TEST(GlibcInternals, TimeZoneDataIsInternal) {
  TempDir out;
  ExpectOnlyTheProgramsLeak(RunTraced({"time"}, out), "tzset_internal");
}

TEST(GlibcInternals, LibgccLoadedByBacktraceIsInternal) {
  TempDir out;
  ExpectOnlyTheProgramsLeak(RunTraced({"backtrace"}, out), "__libc_dlopen_mode");
}

}  // namespace
}  // namespace leakscope::viewer
