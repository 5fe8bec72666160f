// How a frame and a stack read in the text report; shared by every section.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "report.pb.h"
#include "text_style.h"

namespace leakscope::viewer {

// "function  file:line  (module)  [inlined]", without indentation or newline,
// in at most `columns` columns (0: any): the file's directories, the module,
// the return type and parameters and the middle of the name go first.
std::string FrameText(const report::Frame& f, const TextStyle& style, size_t columns = 0);

// One indented line per frame, at most max_frames of them, then how many were cut.
std::string StackText(const report::Report& report, const std::vector<uint32_t>& frames,
                      size_t max_frames, const TextStyle& style);

// The row's call site (proto/call_site.h), as one line, for the
// one-line-per-site sections, in at most `columns` columns (0: any).
std::string CallSiteText(const report::Report& report, const std::vector<uint32_t>& frames,
                         const TextStyle& style, size_t columns = 0);

}  // namespace leakscope::viewer
