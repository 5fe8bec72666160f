// `leakscope report FILE [--top N] [--json] [--show-internals] [--full-names]
// [--wide | --width N] [filter options]`.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cli_args.h"
#include "site_table.h"
#include "text_width.h"

namespace leakscope::viewer {

struct ReportArgs {
  std::string file;
  size_t top = 0;  // 0: the format's default (text: 20 rows per section, JSON: all)
  bool json = false;
  bool show_internals = false;
  WidthArgs width;  // --full-names, --wide, --width N (text)
  SiteFilter filter;
};

// `args` are the words after "report". On kError, *error is one line.
ParseOutcome ParseReportArgs(const std::vector<std::string>& args, ReportArgs* out,
                             std::string* error);

// Returns the process exit status.
int ReportCommand(const std::vector<std::string>& args);

}  // namespace leakscope::viewer
