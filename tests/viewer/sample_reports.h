// Hand-built reports for the rendering tests; every figure is chosen so the
// expected text can be worked out by hand (see the comments in the .cc).
#pragma once

#include "report.pb.h"

namespace leakscope::viewer::testing {

// A server that exited with status 3 holding two surviving call sites
// (1.5 MiB and 1000 B) and one site that freed everything.
report::Report ServerReport();

// One site, one frame: small enough to compare the whole JSON output.
report::Report TinyReport();

// A long run's report: `sites` distinct stacks of 30 frames, each with its
// own innermost function "leaf_<i>(int)" and 29 frames from a pool of 1,000
// shared callers. Site i holds 16 * (i + 1) bytes in (i % 7) + 1 allocations,
// so the largest is the last one.
report::Report ScaleReport(int sites);

}  // namespace leakscope::viewer::testing
