// Suppressions in LeakSanitizer's file format: one "leak:<pattern>" per line,
// '#' comments and blank lines ignored. A site is suppressed when a pattern
// matches the function, source file or module of any of its frames, as LSan
// does. The same format describes the runtime's own one-time allocations
// (default_internals.supp), so that rule is data, not code.
#pragma once

#include <string>
#include <vector>

#include "report.pb.h"

namespace leakscope::viewer {

class Suppressions {
 public:
  // Adds the patterns in `text`; `source` names it in errors
  // ("rules.supp:3: ..."). Returns false and sets *error (one line) on a
  // line that is not a leak suppression.
  bool Parse(const std::string& text, const std::string& source, std::string* error);

  // Reads and parses a file.
  bool Load(const std::string& path, std::string* error);

  // The first pattern that matches one of the site's frames, or nullptr.
  const std::string* Match(const report::Report& report, const report::Site& site) const;

  // For each entry of the report's frame table, whether a pattern matches it:
  // sites share frames, so a large report is matched once per frame.
  std::vector<bool> MatchFrames(const report::Report& report) const;

  bool empty() const { return patterns_.empty(); }

 private:
  std::vector<std::string> patterns_;
};

// The built-in rules for the runtime's one-time allocations (libstdc++'s
// emergency exception pool, stdio buffers, thread TLS blocks), from
// viewer/default_internals.supp, embedded at build time.
const Suppressions& DefaultInternals();

}  // namespace leakscope::viewer
