#include "diff_command.h"

#include <unistd.h>

#include <cstdio>

#include "cli_args.h"
#include "exit_codes.h"
#include "filter_args.h"
#include "report_loading.h"
#include "text_style.h"
#include "usage.h"

namespace leakscope::viewer {
namespace {

struct DiffArgs {
  std::vector<std::string> files;
  size_t top = 0;
  bool json = false;
  SiteFilter filter;
};

ParseOutcome ParseDiffArgs(const std::vector<std::string>& args, DiffArgs* out,
                           std::string* error) {
  for (size_t i = 0; i < args.size() && error->empty();) {
    const std::string& arg = args[i];
    uint64_t top = 0;
    if (IsHelpFlag(arg)) return ParseOutcome::kHelp;
    if (TakeNumberOption(args, &i, "--top", 1, &top, error)) {
      out->top = static_cast<size_t>(top);
    } else if (TakeFilterOption(args, &i, &out->filter, error)) {
    } else if (arg == "--json") {
      out->json = true;
      ++i;
    } else if (arg.size() > 1 && arg[0] == '-') {
      *error = "unknown option '" + arg + "' (see 'leakscope diff --help')";
    } else {
      out->files.push_back(arg);
      ++i;
    }
  }
  if (error->empty() && out->files.size() != 2)
    *error = "needs two report files, BASE and NEW (got " + std::to_string(out->files.size()) + ")";
  return error->empty() ? ParseOutcome::kOk : ParseOutcome::kError;
}

}  // namespace

int DiffCommand(const std::vector<std::string>& args) {
  DiffArgs parsed;
  std::string error;
  switch (ParseDiffArgs(args, &parsed, &error)) {
    case ParseOutcome::kHelp:
      std::fputs(kDiffUsage, stdout);
      return kExitOk;
    case ParseOutcome::kError:
      std::fprintf(stderr, "leakscope diff: %s\n", error.c_str());
      return kExitUsage;
    case ParseOutcome::kOk:
      break;
  }
  report::Report base, now;
  if (!LoadReport(parsed.files[0], &base, &error) || !LoadReport(parsed.files[1], &now, &error)) {
    std::fprintf(stderr, "leakscope diff: %s\n", error.c_str());
    return kExitUsage;
  }
  const std::vector<SiteChange> changes = DiffSites(base, now, parsed.filter);
  const std::string out =
      parsed.json ? RenderJsonDiff(base, now, changes, parsed.top)
                  : RenderTextDiff(base, now, changes, parsed.top == 0 ? 20 : parsed.top,
                                   ShouldUseColor(STDOUT_FILENO));
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? kExitOk : kExitFailure;
}

}  // namespace leakscope::viewer
