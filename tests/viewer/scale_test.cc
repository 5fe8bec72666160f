// A report of a long run, 100,000 distinct stacks: `report --top 20` shows
// the right 20 of them. Its speed is bench/viewer_bench.cc's, not this test's.
#include <gtest/gtest.h>

#include "cli_runner.h"
#include "report_file.h"
#include "sample_reports.h"

namespace leakscope::viewer {
namespace {

using testing::CliResult;
using testing::RunLeakscope;
using testing::TempDir;

TEST(Scale, HundredThousandStacksReportTop20) {
  TempDir dir;
  const std::string path = dir.path() + "/long_runner.lsr";
  std::string error;
  ASSERT_TRUE(report::WriteReportFile(path, testing::ScaleReport(100000), &error)) << error;
  const CliResult r = RunLeakscope({"report", path, "--top", "20"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  // The largest site is the last: 16 * 100,000 = 1,600,000 B in (99,999 % 7) + 1 = 5 allocations.
  // Its row: rank, site id (8 hex digits), figures.
  const std::string heading = "Surviving allocations by call site (20 of 100,000 sites):\n\n#1  ";
  const size_t row = r.out.find(heading);
  ASSERT_NE(row, std::string::npos) << r.out.substr(0, 2000);
  EXPECT_EQ(r.out.substr(row + heading.size() + 8, 49),
            "  1.5 MiB live (1,600,000 bytes) in 5 allocations");
  EXPECT_NE(r.out.find("    leaf_99999(int)  /src/service/leaf.cc:100000  (long_runner)\n"),
            std::string::npos);
  EXPECT_NE(r.out.find("... 99,980 more sites holding"), std::string::npos);
}

}  // namespace
}  // namespace leakscope::viewer
