#include "report_command.h"

#include <unistd.h>

#include <cstdio>

#include "exit_codes.h"
#include "filter_args.h"
#include "json_report.h"
#include "report_loading.h"
#include "text_report.h"
#include "usage.h"

namespace leakscope::viewer {

ParseOutcome ParseReportArgs(const std::vector<std::string>& args, ReportArgs* out,
                             std::string* error) {
  bool have_file = false;
  for (size_t i = 0; i < args.size() && error->empty();) {
    const std::string& arg = args[i];
    uint64_t top = 0;
    if (IsHelpFlag(arg)) return ParseOutcome::kHelp;
    if (TakeNumberOption(args, &i, "--top", 1, &top, error)) {
      out->top = static_cast<size_t>(top);
    } else if (TakeFilterOption(args, &i, &out->filter, error)) {
    } else if (TakeWidthOption(args, &i, &out->width, error)) {
    } else if (arg == "--json" || arg == "--show-internals") {
      (arg == "--json" ? out->json : out->show_internals) = true;
      ++i;
    } else if (arg.size() > 1 && arg[0] == '-') {
      *error = "unknown option '" + arg + "' (see 'leakscope report --help')";
    } else {
      TakeReportFile(arg, &i, &have_file, &out->file, error);
    }
  }
  if (error->empty() && !have_file) *error = "no report file given";
  return error->empty() ? ParseOutcome::kOk : ParseOutcome::kError;
}

int ReportCommand(const std::vector<std::string>& args) {
  ReportArgs parsed;
  report::Report report;
  const int early =
      ParseArgsAndLoadReport("report", kReportUsage, args, ParseReportArgs, &parsed, &report);
  if (early >= 0) return early;
  std::string error;
  std::string out;
  if (parsed.json) {
    out = RenderJsonReport(report, JsonOptions{parsed.top, parsed.filter});
  } else {
    TextOptions options;
    if (parsed.top != 0) options.top = parsed.top;
    options.color = ShouldUseColor(STDOUT_FILENO);
    options.show_internals = parsed.show_internals;
    options.full_names = parsed.width.full_names;
    options.width = WidthFor(parsed.width, STDOUT_FILENO);
    options.filter = parsed.filter;
    out = RenderTextReport(report, options);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace leakscope::viewer
