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

}  // namespace
}  // namespace leakscope::viewer
