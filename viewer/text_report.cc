#include "text_report.h"

namespace leakscope::viewer {

std::string RenderTextReport(const report::Report& report, const TextOptions& options) {
  const TextStyle style(options.color);
  return RenderProcessSummary(report, style) + "\n" + RenderSurvivingSites(report, options, style);
}

}  // namespace leakscope::viewer
