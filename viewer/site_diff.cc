#include "site_diff.h"

#include <algorithm>
#include <unordered_map>

#include "report_facts.h"

namespace leakscope::viewer {
namespace {

// Unit and record separators cannot occur in symbol or path names we show.
constexpr char kFieldSep = '\x1f';
constexpr char kFrameSep = '\x1e';

void AppendFrameKey(const report::Frame& f, std::string* key) {
  *key += f.function();
  *key += kFieldSep;
  *key += f.file();
  *key += kFieldSep;
  *key += std::to_string(f.line());
  *key += kFieldSep;
  // The module's name, not its path: the same program built or installed elsewhere.
  *key += Basename(f.module());
  // Without a function name only the offset in the module tells frames apart.
  if (f.function().empty()) *key += kFieldSep + std::to_string(f.module_offset());
  *key += kFrameSep;
}

int64_t Difference(uint64_t now, uint64_t before) {
  return now >= before ? static_cast<int64_t>(std::min<uint64_t>(now - before, INT64_MAX))
                       : -static_cast<int64_t>(std::min<uint64_t>(before - now, INT64_MAX));
}

SiteChange::Kind KindOf(const SiteChange& c, bool in_base, bool in_new) {
  const bool base_live = in_base && (c.base_live_bytes > 0 || c.base_live_allocations > 0);
  const bool new_live = in_new && (c.new_live_bytes > 0 || c.new_live_allocations > 0);
  if (new_live && !base_live) return SiteChange::Kind::kNew;
  if (base_live && !new_live) return SiteChange::Kind::kVanished;
  return c.GrowthBytes() != 0 || c.GrowthAllocations() != 0 ? SiteChange::Kind::kChanged
                                                            : SiteChange::Kind::kSame;
}

}  // namespace

std::string StackKey(const report::Report& report, const std::vector<uint32_t>& frames) {
  std::string key;
  for (uint32_t index : frames) AppendFrameKey(FrameAt(report, index), &key);
  return key;
}

int64_t SiteChange::GrowthBytes() const {
  return Difference(new_live_bytes, base_live_bytes);
}

int64_t SiteChange::GrowthAllocations() const {
  return Difference(new_live_allocations, base_live_allocations);
}

std::vector<SiteChange> DiffSites(const report::Report& base, const report::Report& now,
                                  const SiteFilter& filter) {
  SiteFilter by_stack = filter;
  by_stack.by = GroupBy::kStack;
  const SiteTable base_table = BuildSiteTable(base, by_stack);
  const SiteTable new_table = BuildSiteTable(now, by_stack);
  std::unordered_map<std::string, size_t> index;
  std::vector<SiteChange> changes;
  std::vector<std::pair<bool, bool>> seen;  // in base, in new
  const auto entry = [&](const std::string& key, const SiteRow& row, bool from_base) {
    auto [it, added] = index.emplace(key, changes.size());
    if (added) {
      changes.emplace_back();
      changes.back().frames = row.frames;
      changes.back().frames_from_base = from_base;
      seen.emplace_back(false, false);
    }
    return it->second;
  };
  for (const SiteRow& row : base_table.program) {
    const size_t i = entry(StackKey(base, row.frames), row, true);
    changes[i].base_live_bytes += row.live_bytes;
    changes[i].base_live_allocations += row.live_allocations;
    changes[i].base_allocations += row.allocations;
    seen[i].first = true;
  }
  for (const SiteRow& row : new_table.program) {
    const size_t i = entry(StackKey(now, row.frames), row, false);
    if (changes[i].frames_from_base) {  // prefer NEW's frames for display
      changes[i].frames = row.frames;
      changes[i].frames_from_base = false;
    }
    changes[i].new_live_bytes += row.live_bytes;
    changes[i].new_live_allocations += row.live_allocations;
    changes[i].new_allocations += row.allocations;
    seen[i].second = true;
  }
  std::vector<SiteChange> out;
  for (size_t i = 0; i < changes.size(); ++i) {
    changes[i].kind = KindOf(changes[i], seen[i].first, seen[i].second);
    if (changes[i].base_live_bytes + changes[i].new_live_bytes + changes[i].base_live_allocations +
            changes[i].new_live_allocations >
        0)
      out.push_back(changes[i]);
  }
  std::stable_sort(out.begin(), out.end(), [](const SiteChange& a, const SiteChange& b) {
    return a.GrowthBytes() > b.GrowthBytes();
  });
  return out;
}

const char* ChangeMark(SiteChange::Kind kind) {
  switch (kind) {
    case SiteChange::Kind::kNew:
      return "NEW";
    case SiteChange::Kind::kVanished:
      return "GONE";
    default:
      return "";
  }
}

}  // namespace leakscope::viewer
