// The data the HTML page is drawn from, on ServerReport (see sample_reports.cc).
#include <gtest/gtest.h>

#include "html_report.h"
#include "sample_reports.h"

namespace leakscope::viewer {
namespace {

TEST(HtmlData, FlameTreeSumsSurvivingBytesOutermostFirst) {
  const std::string data = HtmlPageData(testing::ServerReport(), SiteFilter{});
  // Root: both surviving sites, 1,572,864 + 1,000 B. The unnamed libc frame
  // is the outermost of the big site's stack.
  EXPECT_NE(data.find("\"name\": \"all surviving bytes\",\n    \"value\": 1573864,"),
            std::string::npos)
      << data;
  EXPECT_NE(data.find("\"name\": \"??\",\n        \"value\": 1572864,"), std::string::npos);
  EXPECT_NE(data.find("\"name\": \"leak_hundreds\",\n        \"value\": 1000\n"),
            std::string::npos);
}

TEST(HtmlData, GrowthSuspectsTableAndScriptSafeStrings) {
  report::Report r = testing::ServerReport();
  report::GrowthSuspect* g = r.add_growth_suspects();
  g->set_site(0);  // leak_hundreds
  g->set_bytes_per_hour(4096.6);
  g->set_confidence(0.5);
  r.mutable_frames(3)->set_function("leak</script><b>");
  const std::string data = HtmlPageData(r, SiteFilter{});
  EXPECT_NE(data.find("\"id\": \"growth\","), std::string::npos);
  // Call site, where, bytes per hour (whole bytes), confidence %, live bytes.
  EXPECT_NE(data.find("[\n          \"leak<\\/script><b>\",\n          \"leaky.c:12 (server)\",\n"
                      "          4096,\n          50,\n          1000\n        ]"),
            std::string::npos)
      << data;
  EXPECT_EQ(data.find("</"), std::string::npos);
}

TEST(HtmlData, AnImageReplacedByExecLeakedNothing) {
  report::Report r = testing::ServerReport();
  r.mutable_process()->set_end(report::Process::ENDED);
  r.mutable_process()->set_how("exec");
  const std::string data = HtmlPageData(r, SiteFilter{});
  EXPECT_NE(data.find("\"Leaked\",\n      \"nothing: exec replaced this image, which released the "
                      "1.5 MiB it held\""),
            std::string::npos)
      << data;
}

TEST(HtmlData, TemporaryTableOnlyWhenEveryAllocationIsRecorded) {
  report::Report r = testing::ServerReport();
  r.mutable_sites(1)->set_temporary_allocations(700);
  const std::string exact = HtmlPageData(r, SiteFilter{});
  EXPECT_NE(exact.find("\"id\": \"temporary\",\n      \"columns\""), std::string::npos) << exact;
  r.set_sampling_interval_bytes(4096);
  const std::string sampled = HtmlPageData(r, SiteFilter{});
  EXPECT_NE(sampled.find("\"id\": \"temporary\",\n      \"note\": \"Not counted in sampled mode: "),
            std::string::npos)
      << sampled;
  EXPECT_EQ(sampled.find("700"), std::string::npos);
}

}  // namespace
}  // namespace leakscope::viewer
