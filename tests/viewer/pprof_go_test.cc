// The pprof export read by the real `go tool pprof`, offline: what the
// profile promises to other tools (speedscope, Pyroscope, Grafana read the
// same format).
#include <ftw.h>
#include <gtest/gtest.h>

#include <sstream>

#include "cli_runner.h"
#include "report_file.h"
#include "sample_reports.h"

namespace leakscope::viewer {
namespace {

using testing::CliResult;
using testing::RunLeakscope;
using testing::RunProgram;
using testing::TempDir;

int RemoveEntry(const char* path, const struct stat*, int, struct FTW*) {
  return remove(path);
}

TEST(PprofWithGo, TopSiteBytesAsGoToolPprofReadsThem) {
  TempDir dir;
  const std::string lsr = dir.path() + "/server.lsr", pb = dir.path() + "/server.pb.gz";
  std::string error;
  ASSERT_TRUE(report::WriteReportFile(lsr, testing::ServerReport(), &error)) << error;
  ASSERT_EQ(RunLeakscope({"export", lsr, "--format", "pprof", "-o", pb}).exit_status, 0);
  const std::string home = dir.path() + "/home";  // go's caches, removed below
  const CliResult r =
      RunProgram(GO_BIN, {"tool", "pprof", "-top", "-sample_index=inuse_space", "-unit=B", pb},
                 {"HOME=" + home, "GOCACHE=" + home + "/cache", "GOPATH=" + home + "/go",
                  "GOPROXY=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod", "GOTELEMETRY=off"});
  nftw(home.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  // The first row after the column header is the site with the most live
  // bytes: Cache::Insert, 1,572,864 B of 1,573,864 B.
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line) && line.find("flat%") == std::string::npos) {
  }
  ASSERT_TRUE(std::getline(lines, line)) << r.out;
  EXPECT_NE(line.find("1572864B"), std::string::npos) << line;
  EXPECT_NE(line.find("Cache::Insert"), std::string::npos) << line;
  EXPECT_NE(r.out.find("of 1573864B total"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace leakscope::viewer
