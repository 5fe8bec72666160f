#include "text_frames.h"

#include "human_units.h"
#include "report_facts.h"
#include "site_table.h"

namespace leakscope::viewer {
namespace {

// The symbolizer's fallback name "libfoo.so+0x1234" already names the module.
bool NamesItsModule(const report::Frame& f) {
  const std::string prefix = Basename(f.module()) + "+0x";
  return f.function().compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::string FrameText(const report::Frame& f, const TextStyle& style) {
  std::string out = f.function().empty() ? std::string("??") : Printable(f.function());
  if (!f.file().empty()) {
    std::string where = Printable(f.file());
    if (f.line() != 0) where += ":" + std::to_string(f.line());
    out += "  " + style.Dim(where);
  }
  if (!f.module().empty() && !NamesItsModule(f))
    out += "  " + style.Dim("(" + Printable(Basename(f.module())) + ")");
  if (f.inlined()) out += "  [inlined]";
  return out;
}

std::string StackText(const report::Report& report, const std::vector<uint32_t>& frames,
                      size_t max_frames, const TextStyle& style) {
  std::string out;
  const size_t n = frames.size();
  for (size_t i = 0; i < n && i < max_frames; ++i) {
    out += "    " + FrameText(FrameAt(report, frames[i]), style) + "\n";
  }
  if (n > max_frames)
    out += "    ... " + CountOf(n - max_frames, "more frame", "more frames") + "\n";
  if (n == 0) out += "    (no stack)\n";
  return out;
}

std::string CallSiteText(const report::Report& report, const std::vector<uint32_t>& frames,
                         const TextStyle& style) {
  if (frames.empty()) return "(no stack)";
  const int call = CallFrame(report, frames);
  return FrameText(FrameAt(report, frames[static_cast<size_t>(call)]), style);
}

}  // namespace leakscope::viewer
