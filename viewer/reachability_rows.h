// The rows of a report with a reachability scan (report.Reachability), as
// the text's "Definitely lost" section, JSON and `check --lost-only` see them.
#pragma once

#include <string>
#include <vector>

#include "report.pb.h"
#include "site_table.h"

namespace leakscope::viewer {

// Rows holding definitely or indirectly lost blocks, by those bytes
// (definite first, then indirect) descending.
std::vector<const SiteRow*> LostRows(const std::vector<SiteRow>& rows);

// `check --lost-only`: each row's live figures become its definitely plus
// indirectly lost ones, so every limit counts lost memory only.
void KeepLostOnly(std::vector<SiteRow>* rows);

// One line: the four verdicts' totals and the pause, or why there was no
// scan. Empty without a request for one.
std::string ReachabilityLine(const report::Report& report);

}  // namespace leakscope::viewer
