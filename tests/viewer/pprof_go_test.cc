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

// `go tool pprof -top` on `export --format pprof` of `report`: its lines.
CliResult GoPprofTop(const std::string& lsr, const TempDir& dir) {
  const std::string pb = dir.path() + "/profile.pb.gz";
  const CliResult exported = RunLeakscope({"export", lsr, "--format", "pprof", "-o", pb});
  if (exported.exit_status != 0) return exported;
  const std::string home = dir.path() + "/home";  // go's caches, removed below
  const CliResult r =
      RunProgram(GO_BIN, {"tool", "pprof", "-top", "-sample_index=inuse_space", "-unit=B", pb},
                 {"HOME=" + home, "GOCACHE=" + home + "/cache", "GOPATH=" + home + "/go",
                  "GOPROXY=off", "GOTOOLCHAIN=local", "GOFLAGS=-mod=mod", "GOTELEMETRY=off"});
  nftw(home.c_str(), RemoveEntry, 16, FTW_DEPTH | FTW_PHYS);
  return r;
}

// The first row after pprof's column header: the site with the most bytes.
std::string TopRow(const std::string& out) {
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line) && line.find("flat%") == std::string::npos) {
  }
  return std::getline(lines, line) ? line : "";
}

#ifdef CACHE_NEVER_EVICTS
TEST(PprofWithGo, TracedExampleTopSiteIsTheCacheLeak) {
  TempDir dir;
  ASSERT_EQ(RunLeakscope({"run", "-o", dir.path(), "--", CACHE_NEVER_EVICTS}).exit_status, 0);
  const std::vector<std::string> reports = dir.Files();
  ASSERT_EQ(reports.size(), 1u);
  const CliResult r = GoPprofTop(dir.path() + "/" + reports[0], dir);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  // 2,000 x 1,000 B kept by Render(int).
  const std::string top = TopRow(r.out);
  EXPECT_NE(top.find("2000000B"), std::string::npos) << r.out;
  EXPECT_NE(top.find("cache_example::ResponseCache::Render"), std::string::npos) << r.out;
}
#endif

TEST(PprofWithGo, TopSiteBytesAsGoToolPprofReadsThem) {
  TempDir dir;
  const std::string lsr = dir.path() + "/server.lsr";
  std::string error;
  ASSERT_TRUE(report::WriteReportFile(lsr, testing::ServerReport(), &error)) << error;
  const CliResult r = GoPprofTop(lsr, dir);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  // The site with the most live bytes: Cache::Insert, 1,572,864 B of 1,573,864 B.
  const std::string line = TopRow(r.out);
  EXPECT_NE(line.find("1572864B"), std::string::npos) << line;
  EXPECT_NE(line.find("Cache::Insert"), std::string::npos) << line;
  EXPECT_NE(r.out.find("of 1573864B total"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace leakscope::viewer
