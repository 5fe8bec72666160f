// The daemon's output folder, checked once at start: every report it writes
// later goes there, so a folder that cannot hold them, or that someone else
// could tamper with, is a one-line error before the first client connects.
#pragma once

#include <string>

namespace leakscope::collector {

// Creates `dir` (mode 0700) if it is missing. Then it must be a directory
// owned by our effective uid, writable by us, and neither group- nor
// world-writable unless sticky (others can then add names but never remove
// or replace ours; report files are created O_EXCL|O_NOFOLLOW and never
// replace a name, proto/report_file.h). False + a one-line *error otherwise.
bool PrepareOutputFolder(const std::string& dir, std::string* error);

}  // namespace leakscope::collector
