// A report with a reachability scan in the text, JSON and `check
// --lost-only`, on ServerReport: leak_hundreds's 1,000 B in 10 blocks are
// definitely lost (400 B, 4) and indirectly lost (600 B, 6); Cache::Insert's
// 1.5 MiB are still reachable but for 64 B possibly lost.
#include <gtest/gtest.h>

#include "html_report.h"
#include "json_report.h"
#include "leak_gate.h"
#include "sample_reports.h"
#include "text_report.h"

namespace leakscope::viewer {
namespace {

report::Report Scanned() {
  report::Report r = testing::ServerReport();
  report::Reachability* scan = r.mutable_reachability();
  scan->set_scanned(true);
  scan->set_at_exit(true);
  scan->set_pause_ns(2500000);
  scan->set_definitely_lost_bytes(400);
  scan->set_definitely_lost_allocations(4);
  scan->set_indirectly_lost_bytes(600);
  scan->set_indirectly_lost_allocations(6);
  scan->set_possibly_lost_bytes(64);
  scan->set_possibly_lost_allocations(1);
  scan->set_reachable_bytes(1572800);
  scan->set_reachable_allocations(1233);
  for (report::Site& s : *r.mutable_sites()) {
    if (s.live_bytes() == 1000) {
      s.set_definitely_lost_bytes(400);
      s.set_definitely_lost_allocations(4);
      s.set_indirectly_lost_bytes(600);
      s.set_indirectly_lost_allocations(6);
    } else if (s.live_bytes() == 1572864) {
      s.set_possibly_lost_bytes(64);
      s.set_possibly_lost_allocations(1);
      s.set_reachable_bytes(1572800);
      s.set_reachable_allocations(1233);
    }
  }
  return r;
}

TEST(ReachabilityView, TextStartsWithTheTotalsAndTheDefinitelyLostSites) {
  const std::string text = RenderTextReport(Scanned(), TextOptions{});
  const size_t line = text.find(
      "Reachability (at exit, process stopped 2.5 ms): definitely lost 400 B in 4 blocks, "
      "indirectly lost 600 B in 6 blocks, possibly lost 64 B in 1 block, still reachable 1.5 MiB "
      "in 1,233 blocks\n");
  ASSERT_NE(line, std::string::npos) << text;
  const size_t section = text.find("Definitely lost (1 of 1 site)");
  ASSERT_NE(section, std::string::npos) << text;
  EXPECT_NE(text.find("400 B in 4 blocks definitely lost, 600 B in 6 blocks indirectly lost at "
                      "leak_hundreds"),
            std::string::npos)
      << text;
  EXPECT_LT(section, text.find("Surviving"));
}

TEST(ReachabilityView, FailedScanIsOneLineAndNoSection) {
  report::Report r = testing::ServerReport();
  r.mutable_reachability()->set_error("reachability: pid 7 cannot be stopped (ptrace: denied)");
  const std::string text = RenderTextReport(r, TextOptions{});
  EXPECT_NE(text.find("Reachability: no scan: reachability: pid 7 cannot be stopped"),
            std::string::npos);
  EXPECT_EQ(text.find("Definitely lost"), std::string::npos);
}

TEST(ReachabilityView, JsonHasTheScanAndEachSitesVerdicts) {
  std::string json;
  for (char c : RenderJsonReport(Scanned(), 0))
    if (c != ' ' && c != '\n') json += c;  // no space in the keys looked for
  EXPECT_NE(json.find("\"definitely_lost_bytes\":400,\"definitely_lost_allocations\":4,"
                      "\"indirectly_lost_bytes\":600,\"indirectly_lost_allocations\":6"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("\"reachability\":{\"scanned\":true,\"at_exit\":true,\"pause_ns\":2500000"),
            std::string::npos);
  EXPECT_NE(json.find("\"reachable_allocations\":1233"), std::string::npos);
}

TEST(ReachabilityView, LostOnlyGateCountsDefinitelyAndIndirectlyLostOnly) {
  GateLimits limits;
  limits.lost_only = true;
  limits.max_leaked = 1000;
  EXPECT_TRUE(EvaluateGate(Scanned(), nullptr, limits).pass);
  limits.max_leaked = 999;
  const GateVerdict v = EvaluateGate(Scanned(), nullptr, limits);
  EXPECT_FALSE(v.pass);
  EXPECT_NE(v.explanation.find("FAIL: 1000 B (1,000 bytes) leaked"), std::string::npos)
      << v.explanation;
  limits.lost_only = false;
  limits.max_leaked = 1000;
  EXPECT_FALSE(EvaluateGate(Scanned(), nullptr, limits).pass);  // the reachable cache counts
}

// leakscope html: the totals in the summary, a "lost" table of the sites of
// definitely and indirectly lost blocks, and the four verdicts' bytes as
// columns of the leaks table.
TEST(ReachabilityView, HtmlHasTheVerdictColumnsAndADefinitelyLostTable) {
  const std::string data = HtmlPageData(Scanned(), SiteFilter{});
  EXPECT_NE(data.find("\"Reachability\",\n      \"(at exit, process stopped 2.5 ms): definitely "
                      "lost 400 B in 4 blocks, indirectly lost 600 B in 6 blocks, possibly lost "
                      "64 B in 1 block, still reachable 1.5 MiB in 1,233 blocks\""),
            std::string::npos)
      << data;
  // Call site, where, definitely lost bytes and blocks, indirectly lost bytes and blocks.
  EXPECT_NE(data.find("\"id\": \"lost\",\n      \"columns\""), std::string::npos) << data;
  EXPECT_NE(data.find("[\n          \"leak_hundreds\",\n          \"leaky.c:12 (server)\",\n"
                      "          400,\n          4,\n          600,\n          6\n        ]"),
            std::string::npos)
      << data;
  // The leaks table: ... live, live allocations, calls, then the verdicts.
  EXPECT_NE(data.find("\"title\": \"Still reachable\""), std::string::npos);
  EXPECT_NE(data.find("          1572864,\n          1234,\n          1400,\n          0,\n"
                      "          0,\n          64,\n          1572800\n        ]"),
            std::string::npos)
      << data;

  report::Report refused = Scanned();
  refused.mutable_reachability()->set_scanned(false);
  refused.mutable_reachability()->set_error(
      "reachability: pid 7 cannot be stopped (ptrace: denied)");
  const std::string no_scan = HtmlPageData(refused, SiteFilter{});
  EXPECT_NE(no_scan.find("\"id\": \"lost\",\n      \"note\": \"No scan: reachability: pid 7 "
                         "cannot be stopped (ptrace: denied)\""),
            std::string::npos)
      << no_scan;
  EXPECT_EQ(no_scan.find("Still reachable"), std::string::npos);
  const std::string none = HtmlPageData(testing::ServerReport(), SiteFilter{});
  EXPECT_NE(none.find("\"note\": \"No reachability scan in this report"), std::string::npos);
  EXPECT_EQ(none.find("\"Reachability\""), std::string::npos);
}

}  // namespace
}  // namespace leakscope::viewer
