// `leakscope report --json`: the report as JSON, for scripts and CI.
#pragma once

#include <cstddef>
#include <string>

#include "report.pb.h"

namespace leakscope::viewer {

// Sites sorted by live bytes, at most `top` of them (0 = all).
std::string RenderJsonReport(const report::Report& report, size_t top);

}  // namespace leakscope::viewer
