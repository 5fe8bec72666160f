#include "collapsed_export.h"

#include <map>

#include "report_facts.h"

namespace leakscope::viewer {
namespace {

std::string FrameName(const report::Frame& f) {
  std::string name = f.function().empty() ? "??" : f.function();
  for (char& c : name) {
    if (c == ';' || static_cast<unsigned char>(c) < 0x20) c = '?';
  }
  return name;
}

}  // namespace

std::string RenderCollapsed(const report::Report& report) {
  // Sorted, so the output is the same whatever order the sites come in.
  std::map<std::string, uint64_t> folded;
  for (const report::Site& site : report.sites()) {
    if (site.live_bytes() == 0) continue;
    std::string stack;
    for (int i = site.frames_size() - 1; i >= 0; --i) {
      if (!stack.empty()) stack += ';';
      stack += FrameName(FrameAt(report, site.frames(i)));
    }
    if (stack.empty()) stack = "??";
    folded[stack] += site.live_bytes();
  }
  std::string out;
  for (const auto& [stack, bytes] : folded) out += stack + " " + std::to_string(bytes) + "\n";
  return out;
}

}  // namespace leakscope::viewer
