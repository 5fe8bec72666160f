// The CI gate's verdicts and the cross-report site matching they rest on,
// on ServerReport (two surviving sites: 1,572,864 B at Cache::Insert and
// 1,000 B at leak_hundreds, 1,573,864 B together).
#include <gtest/gtest.h>

#include "leak_gate.h"
#include "sample_reports.h"
#include "site_diff.h"

namespace leakscope::viewer {
namespace {

using testing::ServerReport;

constexpr uint64_t kLeaked = 1572864 + 1000;

// Adds a stdio buffer (a runtime internal) of 4096 B.
report::Report WithStdioBuffer(report::Report r) {
  report::Frame* f = r.add_frames();
  f->set_function("_IO_file_doallocate");
  f->set_module("/lib/x86_64-linux-gnu/libc.so.6");
  report::Site* s = r.add_sites();
  s->set_live_bytes(4096);
  s->set_live_allocations(1);
  s->add_frames(static_cast<uint32_t>(r.frames_size() - 1));
  s->add_frames(1);
  return r;
}

bool Mentions(const GateVerdict& v, const std::string& text) {
  return v.explanation.find(text) != std::string::npos;
}

TEST(Gate, NoLimitsMeansNothingMayLeak) {
  const GateVerdict v = EvaluateGate(ServerReport(), nullptr, GateLimits{});
  EXPECT_FALSE(v.pass);
  EXPECT_EQ(v.explanation.substr(0, v.explanation.find('\n')),
            "FAIL: 1.5 MiB (1,573,864 bytes) leaked; runtime internals (0 B) and suppressed sites "
            "(0 B) not counted");
  EXPECT_TRUE(Mentions(v, "over --max-leaked 0 B (0 bytes):\n"));
  EXPECT_TRUE(Mentions(v,
                       "    1.5 MiB (1,572,864 bytes) in 1,234 allocations at "
                       "Cache::Insert(std::string const&)  /src/cache.cc:42"));
  EXPECT_TRUE(Mentions(v, "    1000 B (1,000 bytes) in 10 allocations at leak_hundreds"));
}

TEST(Gate, AnImageReplacedByExecLeakedNothing) {
  report::Report r = ServerReport();
  r.mutable_process()->set_end(report::Process::ENDED);
  r.mutable_process()->set_how("exec");
  const GateVerdict v = EvaluateGate(r, nullptr, GateLimits{});
  EXPECT_TRUE(v.pass);
  EXPECT_EQ(v.explanation,
            "OK: this image was replaced by exec, which released the 1.5 MiB (1,573,864 bytes) "
            "it held: nothing leaked\n");
}

TEST(Gate, BudgetIsInclusiveAndInternalsNeverCount) {
  GateLimits limits;
  limits.max_leaked = kLeaked;
  const GateVerdict v = EvaluateGate(WithStdioBuffer(ServerReport()), nullptr, limits);
  EXPECT_TRUE(v.pass) << v.explanation;
  EXPECT_EQ(v.explanation,
            "OK: 1.5 MiB (1,573,864 bytes) leaked in 2 sites, within budget; runtime internals "
            "(4.0 KiB) and suppressed sites (0 B) not counted\n");
  limits.max_leaked = kLeaked - 1;
  EXPECT_FALSE(EvaluateGate(ServerReport(), nullptr, limits).pass);
}

TEST(Gate, PerSiteLimitNamesOnlyTheSitesOverIt) {
  GateLimits limits;
  limits.max_site_leaked = 1000;
  const GateVerdict v = EvaluateGate(ServerReport(), nullptr, limits);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(Mentions(v,
                       "  1 site over --max-site-leaked 1000 B (1,000 bytes):\n"
                       "    1.5 MiB (1,572,864 bytes) at Cache::Insert"));
  EXPECT_FALSE(Mentions(v, "leak_hundreds"));
  limits.max_site_leaked = 1572864;
  EXPECT_TRUE(EvaluateGate(ServerReport(), nullptr, limits).pass);
}

TEST(Gate, SuppressedSitesDoNotCount) {
  GateLimits limits;
  limits.max_leaked = 1000;
  std::string error;
  ASSERT_TRUE(limits.filter.suppressions.Parse("leak:Cache::Insert\n", "t", &error));
  const GateVerdict v = EvaluateGate(ServerReport(), nullptr, limits);
  EXPECT_TRUE(v.pass) << v.explanation;
  EXPECT_TRUE(Mentions(v, "suppressed sites (1.5 MiB) not counted"));
}

TEST(Gate, WithBaselineOnlyGrowthFails) {
  report::Report now = ServerReport();
  now.mutable_sites(0)->set_live_bytes(3000);  // leak_hundreds: 1000 -> 3000
  GateLimits limits;
  const report::Report base = ServerReport();
  limits.max_growth = 2000;
  EXPECT_TRUE(EvaluateGate(now, &base, limits).pass);
  limits.max_growth = 1999;
  const GateVerdict v = EvaluateGate(now, &base, limits);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(Mentions(v,
                       "  leaked 2.0 KiB (2,000 bytes) more than the baseline, over "
                       "--max-growth 2.0 KiB (1,999 bytes)\n"));
  EXPECT_TRUE(Mentions(v, "    +2.0 KiB (2,000 bytes) at leak_hundreds"));
  EXPECT_FALSE(Mentions(v, "Cache::Insert"));  // leaked, but no more than before
}

// The same program's report with its frame table in another order and its
// modules under another directory: sites still match (the frame without a
// function name by its module offset).
report::Report Relocated(const report::Report& base) {
  report::Report r = base;
  r.clear_frames();
  const int n = base.frames_size();
  for (int i = n - 1; i >= 0; --i) {
    report::Frame* f = r.add_frames();
    *f = base.frames(i);
    f->set_module("/opt/other" + f->module());  // same build: same module offsets
  }
  for (report::Site& s : *r.mutable_sites()) {
    for (uint32_t& index : *s.mutable_frames()) index = static_cast<uint32_t>(n - 1) - index;
  }
  return r;
}

TEST(SiteDiff, MatchedByFramesNotByIndexesOrPaths) {
  const report::Report base = ServerReport();
  const std::vector<SiteChange> changes = DiffSites(base, Relocated(base), SiteFilter{});
  ASSERT_EQ(changes.size(), 2u);  // the site that freed everything holds nothing in either
  for (const SiteChange& c : changes) EXPECT_EQ(c.kind, SiteChange::Kind::kSame);
}

TEST(SiteDiff, SortedByGrowthWithNewAndVanishedMarked) {
  const report::Report base = ServerReport();
  report::Report now = ServerReport();
  now.mutable_sites(0)->set_live_bytes(3000);     // leak_hundreds +2000
  now.mutable_sites(1)->set_live_bytes(0);        // Cache::Insert gone
  now.mutable_sites(1)->set_live_allocations(0);  // (1,234 allocations freed)
  now.mutable_sites(2)->set_live_bytes(500);      // Handler::Run held nothing before
  now.mutable_sites(2)->set_live_allocations(5);
  const std::vector<SiteChange> c = DiffSites(base, now, SiteFilter{});
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].GrowthBytes(), 2000);
  EXPECT_EQ(c[0].kind, SiteChange::Kind::kChanged);
  EXPECT_EQ(c[1].GrowthBytes(), 500);
  EXPECT_EQ(c[1].GrowthAllocations(), 5);
  EXPECT_EQ(c[1].kind, SiteChange::Kind::kNew);
  EXPECT_EQ(c[2].GrowthBytes(), -1572864);
  EXPECT_EQ(c[2].GrowthAllocations(), -1234);
  EXPECT_EQ(c[2].kind, SiteChange::Kind::kVanished);
  EXPECT_STREQ(ChangeMark(c[1].kind), "NEW");
  EXPECT_STREQ(ChangeMark(c[2].kind), "GONE");
}

// A report of one function leaking at two lines called from main: `lines`
// are the two malloc calls' lines, `bytes` what each holds (0: none).
report::Report TwoLeaksIn(const char* function, uint32_t main_line,
                          std::vector<std::pair<uint32_t, uint64_t>> sites) {
  report::Report r;
  r.set_sampling_interval_bytes(1);
  for (const auto& [line, bytes] : sites) {
    report::Frame* leaf = r.add_frames();
    leaf->set_function(function);
    leaf->set_file("/src/svc.c");
    leaf->set_line(line);
    leaf->set_module("/usr/bin/svc");
    report::Frame* caller = r.add_frames();
    caller->set_function("main");
    caller->set_file("/src/svc.c");
    caller->set_line(main_line);
    caller->set_module("/usr/bin/svc");
    report::Site* s = r.add_sites();
    s->set_live_bytes(bytes);
    s->set_live_allocations(bytes > 0 ? 1 : 0);
    s->set_allocations(1);
    s->add_frames(static_cast<uint32_t>(r.frames_size() - 2));
    s->add_frames(static_cast<uint32_t>(r.frames_size() - 1));
  }
  return r;
}

// A comment added above known leaks moves their lines (and main's): the
// same sites, nothing new, and the gate passes.
TEST(SiteDiff, LinesShiftedByAnEditStillMatch) {
  const report::Report base = TwoLeaksIn("leak_twice", 40, {{10, 100}, {11, 200}});
  const report::Report now = TwoLeaksIn("leak_twice", 43, {{13, 100}, {14, 200}});
  const std::vector<SiteChange> c = DiffSites(base, now, SiteFilter{});
  ASSERT_EQ(c.size(), 2u);
  for (const SiteChange& change : c) EXPECT_EQ(change.kind, SiteChange::Kind::kSame);
  GateLimits limits;
  limits.max_growth = 0;
  const GateVerdict v = EvaluateGate(now, &base, limits);
  EXPECT_TRUE(v.pass) << v.explanation;
}

// Among look-alike sites (same function, file and module), the nearest
// lines pair: a site added between two known ones is the new one.
TEST(SiteDiff, LinesBreakTiesBetweenLookAlikeSites) {
  const report::Report base = TwoLeaksIn("leak_twice", 40, {{10, 100}, {20, 200}});
  const report::Report now = TwoLeaksIn("leak_twice", 42, {{12, 100}, {15, 300}, {22, 200}});
  const std::vector<SiteChange> c = DiffSites(base, now, SiteFilter{});
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0].kind, SiteChange::Kind::kNew);
  EXPECT_EQ(c[0].GrowthBytes(), 300);
  EXPECT_EQ(now.frames(static_cast<int>(c[0].frames[0])).line(), 15u);
  EXPECT_EQ(c[1].kind, SiteChange::Kind::kSame);
  EXPECT_EQ(c[2].kind, SiteChange::Kind::kSame);
  GateLimits limits;
  limits.max_growth = 299;
  const GateVerdict v = EvaluateGate(now, &base, limits);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(Mentions(v, "    +300 B (300 bytes) (new site) at leak_twice  /src/svc.c:15"))
      << v.explanation;
}

// --by function: the leak moved from one line of the function to another
// caller's path; per function nothing grew. Per stack, one site is new.
TEST(SiteDiff, GroupedByFunctionMatchesByFunction) {
  report::Report base = TwoLeaksIn("leak_twice", 40, {{10, 100}, {20, 0}});
  report::Report now = TwoLeaksIn("leak_twice", 40, {{10, 0}, {20, 100}});
  now.mutable_frames(3)->set_function("worker");  // the second site's caller
  SiteFilter by_function;
  by_function.by = GroupBy::kFunction;
  const std::vector<SiteChange> grouped = DiffSites(base, now, by_function);
  ASSERT_EQ(grouped.size(), 1u);
  EXPECT_EQ(grouped[0].kind, SiteChange::Kind::kSame);
  EXPECT_EQ(grouped[0].frames.size(), 1u);  // the call frame: leak_twice

  GateLimits limits;
  limits.max_growth = 0;
  EXPECT_FALSE(EvaluateGate(now, &base, limits).pass);
  limits.filter.by = GroupBy::kFunction;
  const GateVerdict v = EvaluateGate(now, &base, limits);
  EXPECT_TRUE(v.pass) << v.explanation;
}

}  // namespace
}  // namespace leakscope::viewer
