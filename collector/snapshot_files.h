// Names of report files in the output directory, and the pruning of old
// snapshots.
//   final report:  <exe basename>.<pid>.lsr      (".2", ".3"... for another image of the pid)
//   snapshot:      <exe basename>.<pid>.snap-<unix seconds>.lsr
//                  ("-2", "-3"... for a second one within the same second)
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_set>

namespace leakscope::collector {

// "unknown" for an empty or dot-only exe.
std::string ExeBasename(const std::string& exe);

// A final report's path; `used` holds the paths this server already gave out.
std::string FinalReportPath(const std::string& dir, const std::string& exe, uint32_t pid,
                            std::unordered_set<std::string>* used);

// A snapshot's path that names no existing file (no set of used names: a
// daemon takes snapshots for months).
std::string SnapshotPath(const std::string& dir, const std::string& exe, uint32_t pid,
                         uint64_t unix_seconds);

// Adds `path` as the newest of `snapshots` and deletes the oldest files
// beyond `keep` (0 = keep all). Returns how many files were deleted.
size_t KeepNewest(std::deque<std::string>* snapshots, const std::string& path, size_t keep);

}  // namespace leakscope::collector
