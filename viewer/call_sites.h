// The report's frames seen through the shared call-site rule
// (proto/call_site.h): which frame of a row is the program's call, and the
// row's site id, the same id /metrics labels its series with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "call_site.h"
#include "report.pb.h"

namespace leakscope::viewer {

std::vector<callsite::FrameRef> FrameRefs(const report::Report& report,
                                          const std::vector<uint32_t>& frames);

// Index in `frames` of the program's call (see callsite::CallSiteIndex); -1
// for a site without frames.
int CallFrame(const report::Report& report, const report::Site& site);
int CallFrame(const report::Report& report, const std::vector<uint32_t>& frames);

// 8 hex digits, "" for a site without frames (callsite::SiteId).
std::string SiteIdOf(const report::Report& report, const std::vector<uint32_t>& frames);

}  // namespace leakscope::viewer
