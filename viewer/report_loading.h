// Opening a report file given on the command line.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "cli_args.h"
#include "exit_codes.h"
#include "report.pb.h"

namespace leakscope::viewer {

// Like report::ReadReportFile, but first turns away what is not a regular
// file (a directory, /dev/zero): reading those whole would hang or fail oddly.
bool LoadReport(const std::string& path, report::Report* report, std::string* error);

// The start every one-report command shares: parse its arguments (`parse`
// fills `parsed`, which names the report in `parsed->file`), then load the
// report. Returns -1 to go on, else the exit status to return at once (help
// was printed, or a one-line "leakscope NAME: ..." error).
template <typename Args, typename Parse>
int ParseArgsAndLoadReport(const char* name, const char* usage,
                           const std::vector<std::string>& args, Parse parse, Args* parsed,
                           report::Report* report) {
  std::string error;
  switch (parse(args, parsed, &error)) {
    case ParseOutcome::kHelp:
      std::fputs(usage, stdout);
      return kExitOk;
    case ParseOutcome::kError:
      std::fprintf(stderr, "leakscope %s: %s\n", name, error.c_str());
      return kExitUsage;
    case ParseOutcome::kOk:
      break;
  }
  if (!LoadReport(parsed->file, report, &error)) {
    std::fprintf(stderr, "leakscope %s: %s\n", name, error.c_str());
    return kExitUsage;
  }
  return -1;
}

}  // namespace leakscope::viewer
