// How a diff reads: totals first, then each changed site, largest growth first.
#include <algorithm>

#include "diff_command.h"
#include "human_units.h"
#include "json_report.h"
#include "json_writer.h"
#include "report_facts.h"
#include "text_frames.h"

namespace leakscope::viewer {
namespace {

std::string SignedBytes(int64_t n) {
  const uint64_t magnitude = n < 0 ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  return (n < 0 ? "-" : "+") + HumanBytes(magnitude) + " (" + (n < 0 ? "-" : "+") +
         WithThousands(magnitude) + " bytes)";
}

std::string SignedCount(int64_t n) {
  const uint64_t magnitude = n < 0 ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
  return (n < 0 ? "-" : "+") + WithThousands(magnitude);
}

size_t Shown(size_t top, size_t n) {
  return top == 0 ? n : std::min(top, n);
}

bool Changed(const SiteChange& c) {
  return c.kind != SiteChange::Kind::kSame;
}

void WriteFrames(const report::Report& report, const std::vector<uint32_t>& frames, JsonWriter* w) {
  w->Key("frames");
  w->BeginArray();
  for (uint32_t index : frames) {
    WriteFrameJson(FrameAt(report, index), w);
  }
  w->EndArray();
}

const char* KindWord(SiteChange::Kind kind) {
  switch (kind) {
    case SiteChange::Kind::kNew:
      return "new";
    case SiteChange::Kind::kVanished:
      return "vanished";
    case SiteChange::Kind::kChanged:
      return "changed";
    default:
      return "same";
  }
}

}  // namespace

std::string RenderTextDiff(const report::Report& base, const report::Report& now,
                           const std::vector<SiteChange>& changes, size_t top, bool color) {
  const TextStyle style(color);
  int64_t total = 0;
  std::vector<const SiteChange*> changed;
  for (const SiteChange& c : changes) {
    total += c.GrowthBytes();
    if (Changed(c)) changed.push_back(&c);
  }
  std::string out = style.Bold("Live bytes") + "  " + style.Size(SignedBytes(total)) +
                    " in the program's sites (" + CountOf(changed.size(), "site", "sites") +
                    " changed)\n";
  const size_t shown = Shown(top, changed.size());
  if (shown > 0) out += "\n";
  for (size_t i = 0; i < shown; ++i) {
    const SiteChange& c = *changed[i];
    const std::string mark = ChangeMark(c.kind);
    out += style.Bold("#" + std::to_string(i + 1)) + "  " +
           style.Size(SignedBytes(c.GrowthBytes())) + ", " + SignedCount(c.GrowthAllocations()) +
           " live allocations (" + HumanBytes(c.base_live_bytes) + " -> " +
           HumanBytes(c.new_live_bytes) + ")" + (mark.empty() ? "" : "  " + style.Warn(mark)) +
           "\n" + StackText(c.frames_from_base ? base : now, c.frames, 8, style) + "\n";
  }
  if (shown < changed.size())
    out += "... " + CountOf(changed.size() - shown, "more site", "more sites") +
           " changed (use --top N to see more)\n";
  return out;
}

std::string RenderJsonDiff(const report::Report& base, const report::Report& now,
                           const std::vector<SiteChange>& changes, size_t top) {
  int64_t total = 0;
  std::vector<const SiteChange*> changed;
  for (const SiteChange& c : changes) {
    total += c.GrowthBytes();
    if (Changed(c)) changed.push_back(&c);
  }
  std::string out;
  JsonWriter w(&out);
  w.BeginObject();
  w.Key("live_bytes_change");
  w.Int(total);
  w.Key("sites");
  w.BeginArray();
  for (size_t i = 0; i < Shown(top, changed.size()); ++i) {
    const SiteChange& c = *changed[i];
    w.BeginObject();
    w.Field("change", KindWord(c.kind));
    w.Key("live_bytes_change");
    w.Int(c.GrowthBytes());
    w.Key("live_allocations_change");
    w.Int(c.GrowthAllocations());
    w.Field("base_live_bytes", c.base_live_bytes);
    w.Field("new_live_bytes", c.new_live_bytes);
    w.Field("base_live_allocations", c.base_live_allocations);
    w.Field("new_live_allocations", c.new_live_allocations);
    WriteFrames(c.frames_from_base ? base : now, c.frames, &w);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

}  // namespace leakscope::viewer
