#include "run_command.h"

namespace leakscope::viewer {

ParseOutcome ParseRunArgs(const std::vector<std::string>& args, RunArgs* out, std::string* error) {
  size_t i = 0;
  std::string check_option;  // the first limit option seen, which needs --check
  while (i < args.size() && error->empty()) {
    const std::string& arg = args[i];
    uint64_t number = 0;
    if (arg == "--") {
      ++i;
      break;
    }
    if (IsHelpFlag(arg)) return ParseOutcome::kHelp;
    if (TakeOptionValue(args, &i, "-o", &out->output_dir, error) ||
        TakeOptionValue(args, &i, "--output", &out->output_dir, error)) {
      if (error->empty() && out->output_dir.empty()) *error = "option '-o' needs a directory";
    } else if (TakeOptionValue(args, &i, "--metrics", &out->metrics, error)) {
      if (error->empty() && out->metrics.empty()) *error = "option '--metrics' needs ADDR:PORT";
    } else if (TakeSizeOption(args, &i, "--sample-interval", 1, &number, error)) {
      out->sample_interval = number;
    } else if (TakeNumberOption(args, &i, "--top", 1, &number, error)) {
      out->top = static_cast<size_t>(number);
    } else if (arg == "--lossy") {
      out->lossy = true;
      ++i;
    } else if (arg == "--no-follow") {
      out->no_follow = true;
      ++i;
    } else if (arg == "--reachability") {
      out->reachability = true;
      ++i;
    } else if (arg == "--no-wait") {
      out->no_wait = true;
      ++i;
    } else if (arg == "--check") {
      out->check = true;
      ++i;
    } else if (TakeCheckOption(args, &i, &out->check_options, error)) {
      if (check_option.empty()) check_option = arg.substr(0, arg.find('='));
    } else if (arg.size() > 1 && arg[0] == '-') {
      *error = "unknown option '" + arg + "' (see 'leakscope run --help')";
    } else {
      break;  // the command
    }
  }
  if (error->empty() && !check_option.empty() && !out->check)
    *error = "option '" + check_option + "' needs --check";
  if (error->empty() && out->check) *error = CheckOptionsProblem(out->check_options);
  if (!error->empty()) return ParseOutcome::kError;
  out->command.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  if (out->command.empty()) {
    *error = "no command given";
    return ParseOutcome::kError;
  }
  return ParseOutcome::kOk;
}

}  // namespace leakscope::viewer
