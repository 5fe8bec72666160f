// `leakscope report FILE`: the report as text for a person at a terminal.
// Each section is its own function (text_*.cc) so later ones (growth
// suspects, peak consumers, ...) slot in without touching the others.
#pragma once

#include <cstddef>
#include <string>

#include "report.pb.h"
#include "text_style.h"

namespace leakscope::viewer {

struct TextOptions {
  size_t top = 20;        // surviving sites shown; 0 = all
  size_t max_frames = 8;  // frames shown per site
  bool color = false;
};

std::string RenderTextReport(const report::Report& report, const TextOptions& options);

// Sections, in the order RenderTextReport prints them.
std::string RenderProcessSummary(const report::Report& report, const TextStyle& style);
std::string RenderSurvivingSites(const report::Report& report, const TextOptions& options,
                                 const TextStyle& style);

}  // namespace leakscope::viewer
