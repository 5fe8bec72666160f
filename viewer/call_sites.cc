#include "call_sites.h"

#include "report_facts.h"

namespace leakscope::viewer {

std::vector<callsite::FrameRef> FrameRefs(const report::Report& report,
                                          const std::vector<uint32_t>& frames) {
  std::vector<callsite::FrameRef> out;
  out.reserve(frames.size());
  for (uint32_t index : frames) {
    const report::Frame& f = FrameAt(report, index);
    out.push_back({f.function(), f.file(), f.line(), f.module(), f.module_offset()});
  }
  return out;
}

int CallFrame(const report::Report& report, const report::Site& site) {
  return CallFrame(report, std::vector<uint32_t>(site.frames().begin(), site.frames().end()));
}

int CallFrame(const report::Report& report, const std::vector<uint32_t>& frames) {
  return callsite::CallSiteIndex(FrameRefs(report, frames));
}

std::string SiteIdOf(const report::Report& report, const std::vector<uint32_t>& frames) {
  return callsite::SiteId(FrameRefs(report, frames));
}

}  // namespace leakscope::viewer
