// `leakscope run [-o DIR] [--sample-interval SIZE] [--top N] -- CMD [ARGS...]`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "check_command.h"
#include "cli_args.h"

namespace leakscope::viewer {

struct RunArgs {
  std::string output_dir = ".";
  uint64_t sample_interval = 0;  // 0: not given
  size_t top = 10;
  bool lossy = false;      // --lossy: a full ring drops events instead of waiting
  bool no_follow = false;  // --no-follow: don't trace programs the command execs
  bool no_wait = false;    // --no-wait: return when the command exits, not when all it started did
  std::string metrics;     // --metrics ADDR:PORT: serve /metrics there while CMD runs
  bool check = false;      // --check: gate on the command's report (limits in check_options)
  bool reachability = false;  // --reachability: LEAKSCOPE_REACHABILITY=1, a scan at exit
  CheckOptions check_options;
  std::vector<std::string> command;
};

// `args` are the words after "run". Options end at "--" or at the first word
// that is not an option. On kError, *error is one line.
ParseOutcome ParseRunArgs(const std::vector<std::string>& args, RunArgs* out, std::string* error);

// Returns the process exit status: the command's, 128+N if signal N killed
// it, 2 for bad arguments, 127 if the command cannot be executed. With
// --check, a command that succeeded gets the gate's status instead (1 over
// budget, 2 without a report): the command's own failure wins.
int RunCommand(const std::vector<std::string>& args);

}  // namespace leakscope::viewer
