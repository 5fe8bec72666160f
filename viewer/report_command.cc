#include "report_command.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "exit_codes.h"
#include "json_report.h"
#include "report_file.h"
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
    } else if (arg == "--json") {
      out->json = true;
      ++i;
    } else if (arg.size() > 1 && arg[0] == '-') {
      *error = "unknown option '" + arg + "' (see 'leakscope report --help')";
    } else if (have_file) {
      *error = "one report file at a time (got '" + out->file + "' and '" + arg + "')";
    } else {
      out->file = arg;
      have_file = true;
      ++i;
    }
  }
  if (error->empty() && !have_file) *error = "no report file given";
  return error->empty() ? ParseOutcome::kOk : ParseOutcome::kError;
}

namespace {

// ReadReportFile reads the whole file: a directory or a device (/dev/zero)
// must be turned away first.
bool IsRegularFile(const std::string& path, std::string* error) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    *error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = path + ": not a regular file";
    return false;
  }
  return true;
}

}  // namespace

int ReportCommand(const std::vector<std::string>& args) {
  ReportArgs parsed;
  std::string error;
  switch (ParseReportArgs(args, &parsed, &error)) {
    case ParseOutcome::kHelp:
      std::fputs(kReportUsage, stdout);
      return kExitOk;
    case ParseOutcome::kError:
      std::fprintf(stderr, "leakscope report: %s\n", error.c_str());
      return kExitUsage;
    case ParseOutcome::kOk:
      break;
  }
  report::Report report;
  if (!IsRegularFile(parsed.file, &error) ||
      !report::ReadReportFile(parsed.file, &report, &error)) {
    std::fprintf(stderr, "leakscope report: %s\n", error.c_str());
    return kExitUsage;
  }
  std::string out;
  if (parsed.json) {
    out = RenderJsonReport(report, parsed.top);
  } else {
    TextOptions options;
    if (parsed.top != 0) options.top = parsed.top;
    options.color = ShouldUseColor(STDOUT_FILENO);
    out = RenderTextReport(report, options);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace leakscope::viewer
