#include "export_command.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "cli_args.h"
#include "collapsed_export.h"
#include "exit_codes.h"
#include "json_report.h"
#include "pprof_profile.h"
#include "report_loading.h"
#include "usage.h"

namespace leakscope::viewer {
namespace {

struct ExportArgs {
  std::string file, format, output;
};

ParseOutcome ParseExportArgs(const std::vector<std::string>& args, ExportArgs* out,
                             std::string* error) {
  bool have_file = false;
  for (size_t i = 0; i < args.size() && error->empty();) {
    const std::string& arg = args[i];
    if (IsHelpFlag(arg)) return ParseOutcome::kHelp;
    if (TakeOptionValue(args, &i, "--format", &out->format, error) ||
        TakeOptionValue(args, &i, "-o", &out->output, error) ||
        TakeOptionValue(args, &i, "--output", &out->output, error)) {
    } else if (arg.size() > 1 && arg[0] == '-') {
      *error = "unknown option '" + arg + "' (see 'leakscope export --help')";
    } else {
      TakeReportFile(arg, &i, &have_file, &out->file, error);
    }
  }
  if (!error->empty()) return ParseOutcome::kError;
  if (!have_file)
    *error = "no report file given";
  else if (out->format != "pprof" && out->format != "collapsed" && out->format != "json")
    *error = "option '--format' needs pprof, collapsed or json" +
             (out->format.empty() ? std::string() : ", got '" + out->format + "'");
  else if (out->output.empty())
    *error = "no output file given (-o FILE, or -o - for stdout)";
  return error->empty() ? ParseOutcome::kOk : ParseOutcome::kError;
}

bool WriteOutput(const std::string& path, const std::string& data, std::string* error) {
  std::FILE* f = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
  if (f == nullptr) {
    *error = path + ": cannot write: " + std::strerror(errno);
    return false;
  }
  const bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size() &&
                  (f == stdout ? std::fflush(f) == 0 : std::fclose(f) == 0);
  if (!ok) *error = path + ": write failed: " + std::strerror(errno);
  return ok;
}

}  // namespace

int ExportCommand(const std::vector<std::string>& args) {
  ExportArgs parsed;
  report::Report report;
  const int early =
      ParseArgsAndLoadReport("export", kExportUsage, args, ParseExportArgs, &parsed, &report);
  if (early >= 0) return early;
  std::string error;
  std::string data;
  if (parsed.format == "pprof") {
    if (!pprof::GzipProfile(report, &data, &error)) {
      std::fprintf(stderr, "leakscope export: %s\n", error.c_str());
      return kExitFailure;
    }
  } else {
    data = parsed.format == "json" ? RenderJsonReport(report, 0) : RenderCollapsed(report);
  }
  if (!WriteOutput(parsed.output, data, &error)) {
    std::fprintf(stderr, "leakscope export: %s\n", error.c_str());
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace leakscope::viewer
