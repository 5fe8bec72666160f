#include "check_command.h"

#include <cstdio>

#include "exit_codes.h"
#include "filter_args.h"
#include "integrity.h"
#include "report_loading.h"
#include "usage.h"

namespace leakscope::viewer {
namespace {

bool TakeSize(const std::vector<std::string>& args, size_t* i, const std::string& name,
              std::optional<uint64_t>* out, std::string* error) {
  uint64_t bytes = 0;
  if (!TakeSizeOption(args, i, name, 0, &bytes, error)) return false;
  *out = bytes;
  return true;
}

bool TakeFlag(const std::vector<std::string>& args, size_t* i, const char* name, bool* out) {
  if (args[*i] != name) return false;
  *out = true;
  ++*i;
  return true;
}

}  // namespace

bool TakeCheckOption(const std::vector<std::string>& args, size_t* i, CheckOptions* out,
                     std::string* error) {
  if ((*i < args.size()) && args[*i] == "--require-complete") {
    out->require_complete = true;
    ++*i;
    return true;
  }
  return TakeSize(args, i, "--max-leaked", &out->limits.max_leaked, error) ||
         TakeSize(args, i, "--max-site-leaked", &out->limits.max_site_leaked, error) ||
         TakeSize(args, i, "--max-growth", &out->limits.max_growth, error) ||
         TakeOptionValue(args, i, "--baseline", &out->baseline, error) ||
         TakeFlag(args, i, "--full-names", &out->limits.full_names) ||
         TakeFlag(args, i, "--include-shutdown", &out->limits.include_shutdown) ||
         TakeFlag(args, i, "--lost-only", &out->limits.lost_only) ||
         TakeFilterOption(args, i, &out->limits.filter, error);
}

std::string CheckOptionsProblem(const CheckOptions& options) {
  if (options.limits.max_growth && options.baseline.empty())
    return "option '--max-growth' needs '--baseline OLD_REPORT'";
  return "";
}

ParseOutcome ParseCheckArgs(const std::vector<std::string>& args, CheckArgs* out,
                            std::string* error) {
  bool have_file = false;
  for (size_t i = 0; i < args.size() && error->empty();) {
    const std::string& arg = args[i];
    if (IsHelpFlag(arg)) return ParseOutcome::kHelp;
    if (TakeCheckOption(args, &i, &out->options, error)) continue;
    if (arg.size() > 1 && arg[0] == '-') {
      *error = "unknown option '" + arg + "' (see 'leakscope check --help')";
    } else {
      TakeReportFile(arg, &i, &have_file, &out->file, error);
    }
  }
  if (error->empty() && !have_file) *error = "no report file given";
  if (error->empty()) *error = CheckOptionsProblem(out->options);
  return error->empty() ? ParseOutcome::kOk : ParseOutcome::kError;
}

int RunGate(const report::Report& report, const CheckOptions& options, const std::string& who,
            std::FILE* out) {
  report::Report baseline;
  std::string error;
  if (options.limits.lost_only && !report.reachability().scanned()) {
    std::fprintf(stderr, "%s: --lost-only needs a report with a reachability scan (%s)\n",
                 who.c_str(),
                 report.has_reachability() ? report.reachability().error().c_str()
                                           : "leakscope run --reachability");
    return kExitUsage;
  }
  if (!options.baseline.empty() && !LoadReport(options.baseline, &baseline, &error)) {
    std::fprintf(stderr, "%s: baseline %s\n", who.c_str(), error.c_str());
    return kExitUsage;
  }
  const GateVerdict verdict =
      EvaluateGate(report, options.baseline.empty() ? nullptr : &baseline, options.limits);
  std::fprintf(out, "%s: %s", who.c_str(), verdict.explanation.c_str());
  const IntegrityVerdict integrity =
      EvaluateIntegrity(IntegrityOf(report), options.require_complete);
  for (const std::string& line : integrity.lines)
    std::fprintf(out, "%s: %s\n", who.c_str(), line.c_str());
  std::fflush(out);
  if (!verdict.pass) return kExitFailure;  // a leak over budget is certain, lost events or not
  return integrity.pass ? kExitOk : kExitIncomplete;
}

int CheckCommand(const std::vector<std::string>& args) {
  CheckArgs parsed;
  report::Report report;
  const int early =
      ParseArgsAndLoadReport("check", kCheckUsage, args, ParseCheckArgs, &parsed, &report);
  if (early >= 0) return early;
  std::string error;
  return RunGate(report, parsed.options, "leakscope check", stdout);
}

}  // namespace leakscope::viewer
