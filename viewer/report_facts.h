// Small facts about a Report that both the text and the JSON output need,
// worded the same way in both.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "report.pb.h"

namespace leakscope::viewer {

// Indexes of the sites to show, by live bytes descending: all of them when
// top == 0, else at most `top`. The collector already sorts sites; sorting
// again keeps the promise for any report.
std::vector<int> SitesByLiveBytes(const report::Report& report, size_t top);

// Lowercase word for how the process ended: "exited", "signaled", "disconnected",
// "ended", "running", or "unknown".
const char* EndWord(report::Process::End end);

// "SIGKILL" for 9; "signal 70" for a number without a name.
std::string SignalName(int signal);

// The sampling interval, with 0 (an unset field) read as 1: every allocation.
uint64_t SamplingInterval(const report::Report& report);

// Whether the report counts temporary allocations (freed before their thread
// allocated again): only when every allocation is recorded. A sampled stream
// does not see the allocations between two sampled events, so nearly every
// sampled block would look temporary.
bool TemporariesCounted(const report::Report& report);

// The image was replaced by exec: the kernel released all it held, so none of
// it is a leak.
bool EndedByExec(const report::Report& report);

// "/usr/lib/libfoo.so.1" -> "libfoo.so.1".
std::string Basename(const std::string& path);

// The site's frame, or an empty frame if the report's index is out of range
// (a corrupt but checksum-valid report must not crash us).
const report::Frame& FrameAt(const report::Report& report, uint32_t index);

}  // namespace leakscope::viewer
