// The sites of a report as the reader asked to see them: grouped (--by),
// filtered (--include/--exclude), with user suppressions taken out and the
// runtime's own one-time allocations set apart. Every section of the text,
// JSON and HTML output, and `leakscope check`, read this one table, so they
// always agree on what a leak is.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "call_sites.h"
#include "frame_regex.h"
#include "report.pb.h"
#include "suppressions.h"

namespace leakscope::viewer {

enum class GroupBy { kStack, kFunction, kFile, kModule };

// "stack", "function", "file", "module"; false for anything else.
bool ParseGroupBy(const std::string& word, GroupBy* out);

struct SiteFilter {
  GroupBy by = GroupBy::kStack;
  // A site is kept when a frame's function, file or module matches include
  // (if given) and none matches exclude (if given). ECMAScript syntax.
  std::shared_ptr<const FrameRegex> include;
  std::shared_ptr<const FrameRegex> exclude;
  Suppressions suppressions;  // the user's: taken out entirely
};

// Compiles `pattern` for --include/--exclude; false and a one-line *error if invalid.
bool CompileFrameRegex(const std::string& pattern, std::shared_ptr<const FrameRegex>* out,
                       std::string* error);

// One row: a report site, or (grouped) the sum of the sites sharing a
// function, file or module at their allocation call.
struct SiteRow {
  std::vector<uint32_t> frames;  // indexes into Report.frames, innermost first
  std::vector<int> sites;        // the report sites summed here
  uint64_t live_bytes = 0;
  uint64_t live_allocations = 0;
  uint64_t allocated_bytes = 0;
  uint64_t allocations = 0;
  uint64_t peak_live_bytes = 0;
  uint64_t temporary_allocations = 0;
  uint64_t live_samples = 0;
  uint64_t live_bytes_ci_low = 0;
  uint64_t live_bytes_ci_high = 0;
  // Of live_*: blocks a forked child inherited from its parent at fork.
  uint64_t inherited_live_bytes = 0;
  uint64_t inherited_live_allocations = 0;
  // Live when exit began, freed during teardown (report.Site.shutdown_freed_*).
  uint64_t shutdown_freed_bytes = 0;
  uint64_t shutdown_freed_allocations = 0;
  // Of live_*, by a reachability scan's verdict (report.Site.*_lost_*).
  uint64_t definitely_lost_bytes = 0;
  uint64_t definitely_lost_allocations = 0;
  uint64_t indirectly_lost_bytes = 0;
  uint64_t indirectly_lost_allocations = 0;
  uint64_t possibly_lost_bytes = 0;
  uint64_t possibly_lost_allocations = 0;
  uint64_t reachable_bytes = 0;
  uint64_t reachable_allocations = 0;
};

struct SiteTable {
  std::vector<SiteRow> program;    // the program's own sites, by live bytes descending
  std::vector<SiteRow> internals;  // runtime internals, by live bytes descending
  size_t suppressed_sites = 0;     // taken out by the user's suppressions
  uint64_t suppressed_bytes = 0;
  size_t filtered_sites = 0;  // taken out by --include/--exclude
};

SiteTable BuildSiteTable(const report::Report& report, const SiteFilter& filter);

// Rows holding memory at the end: the leaks.
std::vector<const SiteRow*> Surviving(const std::vector<SiteRow>& rows);

// Rows holding memory when exit began that teardown freed, by those bytes
// descending: "Held until shutdown". None if the report has no exit marker.
std::vector<const SiteRow*> HeldUntilShutdown(const report::Report& report,
                                              const std::vector<SiteRow>& rows);

// Sum of live bytes over rows.
uint64_t LiveBytesOf(const std::vector<SiteRow>& rows);

}  // namespace leakscope::viewer
