// `leakscope check --include-shutdown`: memory held until shutdown (live
// when exit began, freed only during teardown) counts as leaked.
#pragma once

#include <string>

#include "leak_gate.h"
#include "report.pb.h"
#include "site_table.h"

namespace leakscope::viewer {

// --max-leaked limits leaked + held, --max-site-leaked a site's leaked +
// held; with neither, any byte held until shutdown fails. Adds a line per
// broken limit and one per offending site, as the other limits do.
void CheckHeldUntilShutdown(const report::Report& report, const SiteTable& table,
                            const GateLimits& given, const GateLimits& effective, GateVerdict* v);

// One line for the verdict: "held until shutdown: ..." (or that the report
// has no exit marker, so there is nothing to count).
std::string HeldUntilShutdownLine(const report::Report& report, const SiteTable& table);

}  // namespace leakscope::viewer
