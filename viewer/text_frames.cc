#include "text_frames.h"

#include "cxx_names.h"
#include "human_units.h"
#include "report_facts.h"
#include "site_table.h"
#include "text_width.h"

namespace leakscope::viewer {
namespace {

// The symbolizer's fallback name "libfoo.so+0x1234" already names the module.
bool NamesItsModule(const report::Frame& f) {
  const std::string prefix = Basename(f.module()) + "+0x";
  return f.function().compare(0, prefix.size(), prefix) == 0;
}

// A frame's pieces, plain; joined by two spaces, the place and module dimmed.
struct Pieces {
  std::string name, where, module;
  bool inlined = false;

  size_t Width() const {
    size_t w = VisibleWidth(name);
    if (!where.empty()) w += 2 + VisibleWidth(where);
    if (!module.empty()) w += 2 + VisibleWidth(module);
    return w + (inlined ? 11 : 0);  // "  [inlined]"
  }
  std::string Join(const TextStyle& style) const {
    std::string out = name;
    if (!where.empty()) out += "  " + style.Dim(where);
    if (!module.empty()) out += "  " + style.Dim(module);
    if (inlined) out += "  [inlined]";
    return out;
  }
};

bool IsContinuation(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

// `name` in `columns` by cutting out its middle: the scope it starts with
// and the function it ends with both stay.
std::string CutMiddle(const std::string& name, size_t columns) {
  if (VisibleWidth(name) <= columns || columns < 8) return name;
  // The end (the function's own name) matters more than the start (its scope).
  const size_t head = (columns - 3) / 3, tail = columns - 3 - head;
  size_t h = 0, t = name.size();
  for (size_t n = 0; n < head && h < name.size(); ++n) {
    ++h;
    while (h < name.size() && IsContinuation(name[h])) ++h;
  }
  for (size_t n = 0; n < tail && t > h; ++n) {
    --t;
    while (t > h && IsContinuation(name[t])) --t;
  }
  return name.substr(0, h) + "..." + name.substr(t);
}

// Fits a frame in `columns`, giving up first what the reader needs least:
// the source file's directories, the module, the return type and
// parameters, then the middle of the name.
Pieces Fit(Pieces p, const report::Frame& f, size_t columns) {
  if (columns == 0 || p.Width() <= columns) return p;
  if (!f.file().empty()) {
    p.where = Printable(Basename(f.file()));
    if (f.line() != 0) p.where += ":" + std::to_string(f.line());
    if (p.Width() <= columns) return p;
  }
  p.module.clear();
  if (p.Width() <= columns) return p;
  const std::string_view qualified = cxxnames::QualifiedName(p.name);
  if (qualified.size() < p.name.size()) {
    const bool has_params =
        p.name.find('(', p.name.find(qualified) + qualified.size()) != std::string::npos;
    p.name = std::string(qualified) + (has_params ? "(...)" : "");
    if (p.Width() <= columns) return p;
  }
  // A name cut to a few letters says nothing: rather the name without its place.
  constexpr size_t kShortestName = 20;
  const size_t rest = p.Width() - VisibleWidth(p.name);
  if (columns >= rest + kShortestName) {
    p.name = CutMiddle(p.name, columns - rest);
  } else {
    p.where.clear();
    p.inlined = false;
    p.name = CutMiddle(p.name, columns);
  }
  return p;
}

}  // namespace

std::string FrameText(const report::Frame& f, const TextStyle& style, size_t columns) {
  Pieces p;
  p.name = f.function().empty() ? std::string("??") : style.Name(f.function());
  if (!f.file().empty()) {
    p.where = Printable(f.file());
    if (f.line() != 0) p.where += ":" + std::to_string(f.line());
  }
  if (!f.module().empty() && !NamesItsModule(f))
    p.module = "(" + Printable(Basename(f.module())) + ")";
  p.inlined = f.inlined();
  return FitLine(Fit(p, f, columns).Join(style), columns);
}

std::string StackText(const report::Report& report, const std::vector<uint32_t>& frames,
                      size_t max_frames, const TextStyle& style) {
  constexpr size_t kIndent = 4;
  const size_t columns = style.width() > kIndent ? style.width() - kIndent : 0;
  std::string out;
  const size_t n = frames.size();
  for (size_t i = 0; i < n && i < max_frames; ++i) {
    out += "    " + FrameText(FrameAt(report, frames[i]), style, columns) + "\n";
  }
  if (n > max_frames)
    out += "    ... " + CountOf(n - max_frames, "more frame", "more frames") + "\n";
  if (n == 0) out += "    (no stack)\n";
  return out;
}

std::string CallSiteText(const report::Report& report, const std::vector<uint32_t>& frames,
                         const TextStyle& style, size_t columns) {
  if (frames.empty()) return "(no stack)";
  const int call = CallFrame(report, frames);
  return FrameText(FrameAt(report, frames[static_cast<size_t>(call)]), style, columns);
}

}  // namespace leakscope::viewer
