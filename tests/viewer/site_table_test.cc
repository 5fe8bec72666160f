// Grouping, filtering and the runtime internals set apart, on ServerReport
// (see sample_reports.cc for its sites and frames).
#include "site_table.h"

#include <gtest/gtest.h>

#include "sample_reports.h"
#include "text_report.h"

namespace leakscope::viewer {
namespace {

using testing::ServerReport;

// ServerReport plus libstdc++'s exception pool as the collector reports it:
// 72,704 B allocated from libstdc++'s initializer, run by ld.so's _dl_init.
report::Report WithEhPool() {
  report::Report r = ServerReport();
  report::Frame* pool = r.add_frames();
  pool->set_function("libstdc++.so.6+0xa57b9");
  pool->set_module("/lib/x86_64-linux-gnu/libstdc++.so.6");
  report::Frame* init = r.add_frames();
  init->set_function("_dl_init");
  init->set_file("./elf/./elf/dl-init.c");
  init->set_line(121);
  init->set_module("/lib64/ld-linux-x86-64.so.2");
  report::Site* s = r.add_sites();
  s->set_live_bytes(72704);
  s->set_live_allocations(1);
  s->set_allocations(1);
  s->add_frames(4);
  s->add_frames(5);
  return r;
}

TEST(SiteTable, RuntimeInternalsAreKeptApart) {
  const SiteTable t = BuildSiteTable(WithEhPool(), SiteFilter{});
  ASSERT_EQ(t.internals.size(), 1u);
  EXPECT_EQ(t.internals[0].live_bytes, 72704u);
  EXPECT_EQ(t.program.size(), 3u);
  EXPECT_EQ(LiveBytesOf(t.program), 1572864u + 1000u);
}

TEST(SiteTable, ByFunctionSumsSitesSharingTheProgramsCall) {
  report::Report r = ServerReport();
  // A second stack into leak_hundreds (frame 3), called from Handler::Run.
  report::Site* s = r.add_sites();
  s->set_live_bytes(24);
  s->set_live_allocations(2);
  s->set_allocations(3);
  s->add_frames(3);
  s->add_frames(1);
  SiteFilter filter;
  filter.by = GroupBy::kFunction;
  const SiteTable t = BuildSiteTable(r, filter);
  ASSERT_EQ(t.program.size(), 3u);
  EXPECT_EQ(t.program[1].live_bytes, 1024u);  // 1000 + 24
  EXPECT_EQ(t.program[1].live_allocations, 12u);
  EXPECT_EQ(t.program[1].allocations, 13u);
  EXPECT_EQ(t.program[1].sites.size(), 2u);
  EXPECT_EQ(t.program[1].frames, std::vector<uint32_t>{3});
  filter.by = GroupBy::kModule;  // every frame of ServerReport's calls is in /usr/bin/server
  EXPECT_EQ(BuildSiteTable(r, filter).program.size(), 1u);
}

TEST(SiteTable, StandardLibraryFramesAreNotTheCallSite) {
  report::Report r = ServerReport();
  r.mutable_frames(0)->set_function(
      "std::pair<int, int> std::vector<int, std::allocator<int> >::_M_realloc_insert(int&&)");
  EXPECT_EQ(CallFrame(r, r.sites(1)), 1);  // Handler::Run(), past the std::vector frame
  EXPECT_EQ(CallFrame(r, r.sites(0)), 0);
}

TEST(SiteTable, IncludeAndExcludeMatchAnyFrame) {
  SiteFilter filter;
  std::string error;
  ASSERT_TRUE(CompileFrameRegex("Handler::", &filter.include, &error));
  SiteTable t = BuildSiteTable(ServerReport(), filter);
  EXPECT_EQ(t.program.size(), 2u);  // the big site and the one that freed all
  EXPECT_EQ(t.filtered_sites, 1u);
  ASSERT_TRUE(CompileFrameRegex("libc\\.so", &filter.exclude, &error));
  t = BuildSiteTable(ServerReport(), filter);
  ASSERT_EQ(t.program.size(), 1u);
  EXPECT_EQ(t.program[0].live_bytes, 0u);
  EXPECT_FALSE(CompileFrameRegex("(", &filter.include, &error));
  EXPECT_EQ(error.rfind("invalid regular expression '(': ", 0), 0u);
}

TEST(TextSections, InternalsSummedOrListedAndRankingsShown) {
  report::Report r = WithEhPool();
  r.mutable_sites(1)->set_peak_live_bytes(2097152);
  r.mutable_sites(1)->set_temporary_allocations(100);
  report::GrowthSuspect* g = r.add_growth_suspects();
  g->set_site(0);  // leak_hundreds
  g->set_bytes_per_hour(1048576);
  g->set_confidence(0.875);
  TextOptions options;
  std::string text = RenderTextReport(r, options);
  EXPECT_NE(text.find("\nRuntime internals: 71.0 KiB in 1 allocation at 1 site, one-time "
                      "allocations of the C/C++ runtime, not counted as leaks (--show-internals "
                      "lists them).\n"),
            std::string::npos);
  EXPECT_NE(text.find("Surviving allocations by call site (2 of 2 sites)"), std::string::npos);
  EXPECT_NE(
      text.find("\nGrowth suspects (1 of 1 site):\n\n#1  46b77f52  +1.0 MiB/hour (confidence 88%), "
                "1000 B live at the end\n    leak_hundreds"),
      std::string::npos);
  EXPECT_NE(text.find("\nPeak memory consumers, live bytes per site at the process's peak (1 of "
                      "1 site):\n  #1  4e8cc658  2.0 MiB  Cache::Insert"),
            std::string::npos);
  EXPECT_NE(text.find("\nTemporary allocations, freed before their thread allocated again (1 of "
                      "1 site):\n  #1  4e8cc658  100 of 1,400 calls  Cache::Insert"),
            std::string::npos);
  options.show_internals = true;
  text = RenderTextReport(r, options);
  EXPECT_NE(text.find("not counted as leaks:\n\n#1  93c11bd1  71.0 KiB in 1 allocation\n"
                      "    libstdc++.so.6+0xa57b9\n    _dl_init  ./elf/./elf/dl-init.c:121  "
                      "(ld-linux-x86-64.so.2)\n"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace leakscope::viewer
