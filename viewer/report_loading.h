// Opening a report file given on the command line.
#pragma once

#include <string>

#include "report.pb.h"

namespace leakscope::viewer {

// Like report::ReadReportFile, but first turns away what is not a regular
// file (a directory, /dev/zero): reading those whole would hang or fail oddly.
bool LoadReport(const std::string& path, report::Report* report, std::string* error);

}  // namespace leakscope::viewer
