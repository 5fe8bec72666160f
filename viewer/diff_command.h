// `leakscope diff BASE NEW [--json] [--top N] [filter options]`.
#pragma once

#include <string>
#include <vector>

#include "report.pb.h"
#include "site_diff.h"

namespace leakscope::viewer {

int DiffCommand(const std::vector<std::string>& args);

// The changes as text (sign, bytes, allocations, NEW/GONE, call frame and
// stack) and as JSON; at most `top` sites (0 = all).
std::string RenderTextDiff(const report::Report& base, const report::Report& now,
                           const std::vector<SiteChange>& changes, size_t top, bool color);
std::string RenderJsonDiff(const report::Report& base, const report::Report& now,
                           const std::vector<SiteChange>& changes, size_t top);

}  // namespace leakscope::viewer
