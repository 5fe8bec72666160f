// `leakscope html`: the report as one self-contained HTML page: summary, an
// interactive flame graph of surviving bytes (d3-flame-graph: click to zoom,
// search by name), the timeline when the report has one, and sortable tables
// for the text report's sections. d3 and d3-flame-graph (npm, pinned in
// viewer/html/package-lock.json) are inlined: the page never fetches anything.
#pragma once

#include <string>

#include "report.pb.h"
#include "site_table.h"

namespace leakscope::viewer {

std::string RenderHtmlReport(const report::Report& report, const SiteFilter& filter);

// The JSON the page is drawn from (window.LEAKSCOPE), safe inside <script>.
std::string HtmlPageData(const report::Report& report, const SiteFilter& filter);

int HtmlCommand(const std::vector<std::string>& args);

}  // namespace leakscope::viewer
