// `leakscope report` on a long run's report: reading a 100,000-site report
// file and rendering its top 20 (tests/viewer/sample_reports.cc builds it).
// The speed the viewer's Scale test used to assert with a wall-clock limit.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "report_file.h"
#include "report_loading.h"
#include "sample_reports.h"
#include "text_report.h"

namespace leakscope::viewer {
namespace {

class ScaleReportFile {
 public:
  explicit ScaleReportFile(int sites) {
    char dir[] = "/tmp/leakscope-viewer-bench.XXXXXX";
    if (mkdtemp(dir) == nullptr) std::abort();
    dir_ = dir;
    path_ = dir_ + "/long_runner.lsr";
    std::string error;
    if (!report::WriteReportFile(path_, testing::ScaleReport(sites), &error)) std::abort();
  }
  ~ScaleReportFile() {
    unlink(path_.c_str());
    rmdir(dir_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
};

void BM_LoadReport(benchmark::State& state) {
  const ScaleReportFile file(int(state.range(0)));
  for (auto _ : state) {
    report::Report r;
    std::string error;
    if (!LoadReport(file.path(), &r, &error)) state.SkipWithError(error.c_str());
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_LoadReport)->Arg(100000)->Unit(benchmark::kMillisecond);

void BM_RenderTop20(benchmark::State& state) {
  const ScaleReportFile file(int(state.range(0)));
  report::Report r;
  std::string error;
  if (!LoadReport(file.path(), &r, &error)) std::abort();
  TextOptions options;
  options.top = 20;
  for (auto _ : state) benchmark::DoNotOptimize(RenderTextReport(r, options));
}
BENCHMARK(BM_RenderTop20)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace leakscope::viewer

BENCHMARK_MAIN();
