// Writes testing::ScaleReport to a file, to measure `leakscope report` on
// it by hand: make_scale_report OUT.lsr [SITES]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "report_file.h"
#include "sample_reports.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: make_scale_report OUT.lsr [SITES]\n");
    return 2;
  }
  const int sites = argc == 3 ? std::atoi(argv[2]) : 100000;
  std::string error;
  if (sites <= 0 || !leakscope::report::WriteReportFile(
                        argv[1], leakscope::viewer::testing::ScaleReport(sites), &error)) {
    std::fprintf(stderr, "make_scale_report: %s\n", error.empty() ? "bad SITES" : error.c_str());
    return 2;
  }
  return 0;
}
