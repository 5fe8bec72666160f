// Names of report files in the output directory, the writing of a report
// under a fresh one, and the pruning of old snapshots. The daemon builds
// every name itself: a client's words only ever appear as one component (its
// exe's last, control characters replaced; a label sanitized to
// [A-Za-z0-9._-]), never as a path.
//   final report:  <exe basename>.<pid>.lsr      (".2", ".3"... when the name is taken:
//                  another image of the pid, an earlier process, a restarted daemon)
//   snapshot:      <exe basename>.<pid>.snap-<unix seconds>.lsr
//                  ("-2", "-3"... for a second one within the same second)
//   asked for:     <exe basename>.<pid>.snapshot-<n>.lsr or .snapshot-<label>.lsr
//                  (the in-process API, leakscope_snapshot(); "-2", "-3"... when taken)
//   last before the process was killed: the newest snapshot, renamed when its
//                  stream ends without a goodbye, so --keep never prunes it and
//                  the on-call finds it by name:
//                  <exe basename>.<pid>.before-oom-kill.lsr  (its cgroup counted an OOM kill)
//                  <exe basename>.<pid>.before-death.lsr     (any other death)
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <unordered_set>

#include "report.pb.h"
#include "report_file.h"

namespace leakscope::collector {

// At most this many characters of a client's label are kept.
inline constexpr size_t kMaxLabelLength = 64;

// `text` with every character outside [A-Za-z0-9._-] replaced by '_', a
// leading '.' too (no hidden file, no "." or ".."), cut to `max_length`.
std::string SanitizeName(const std::string& text, size_t max_length);

// The exe's last path component, bounded, control characters replaced by '_';
// "unknown" for an empty or dot-only exe.
std::string ExeBasename(const std::string& exe);

// Candidate names of a final report (attempt 0, 1...); `used` holds the paths
// this server already gave out, which are skipped.
std::function<std::string(int)> FinalReportNames(const std::string& dir, const std::string& exe,
                                                 uint32_t pid,
                                                 const std::unordered_set<std::string>* used);

// Candidate names of a periodic snapshot.
std::function<std::string(int)> SnapshotNames(const std::string& dir, const std::string& exe,
                                              uint32_t pid, uint64_t unix_seconds);

// Candidate names of a snapshot the process asked for: `label` (sanitized)
// if it has one, else the number `n`.
std::function<std::string(int)> AskedSnapshotNames(const std::string& dir, const std::string& exe,
                                                   uint32_t pid, const std::string& label, int n);

// Candidate names for the last snapshot before the process died.
std::function<std::string(int)> BeforeDeathNames(const std::string& dir, const std::string& exe,
                                                 uint32_t pid, bool oom_kill);

// Writes `report` under the first of `names` that does not exist yet (never
// replacing a file: see report::WriteNewFile). Returns the path, or "" and a
// one-line *error.
std::string WriteNewReport(const std::function<std::string(int)>& names,
                           const report::Report& report, const report::FileMode& mode,
                           std::string* error);

// Adds `path` as the newest of `snapshots` and deletes the oldest files
// beyond `keep` (0 = keep all). Returns how many files were deleted.
size_t KeepNewest(std::deque<std::string>* snapshots, const std::string& path, size_t keep);

}  // namespace leakscope::collector
