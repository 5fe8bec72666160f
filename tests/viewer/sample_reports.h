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

}  // namespace leakscope::viewer::testing
