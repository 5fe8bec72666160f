// `leakscope check REPORT [limits]`: the CI gate. Exit 0 within budget, 1
// with the offending sites named, 2 for unusable input. `leakscope run
// --check` takes the same limit options.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "cli_args.h"
#include "leak_gate.h"
#include "report.pb.h"

namespace leakscope::viewer {

struct CheckOptions {
  GateLimits limits;
  std::string baseline;           // path of an older report, or ""
  bool require_complete = false;  // incomplete or sampled figures fail (exit 3), not just warn
};

// Matches a limit option (--max-leaked, --max-site-leaked, --max-growth,
// --baseline, --require-complete) or a filter option (--suppressions...) at args[*i]. Sizes are
// bytes, or with a K, M or G suffix (KiB, MiB, GiB).
bool TakeCheckOption(const std::vector<std::string>& args, size_t* i, CheckOptions* out,
                     std::string* error);

// Options that only make sense together; "" if they are consistent.
std::string CheckOptionsProblem(const CheckOptions& options);

struct CheckArgs {
  std::string file;
  CheckOptions options;
};

ParseOutcome ParseCheckArgs(const std::vector<std::string>& args, CheckArgs* out,
                            std::string* error);

// Loads the baseline (if any), evaluates the gate on `report` and prints the
// verdict to `out` (errors to stderr), prefixed by `who`, then a line per
// integrity problem (integrity.h). Returns 0, 1 (over budget, whatever the
// integrity), 2, or 3 (within budget, but --require-complete and the
// figures are incomplete or sampled).
int RunGate(const report::Report& report, const CheckOptions& options, const std::string& who,
            std::FILE* out);

int CheckCommand(const std::vector<std::string>& args);

}  // namespace leakscope::viewer
