#include "site_diff.h"

#include <algorithm>
#include <cstdlib>
#include <unordered_map>

#include "report_facts.h"

namespace leakscope::viewer {
namespace {

// Unit and record separators cannot occur in symbol or path names we show.
constexpr char kFieldSep = '\x1f';
constexpr char kFrameSep = '\x1e';

// Above this many candidate pairs in one group of look-alike sites, the
// sites are paired in line order without weighing distances.
constexpr size_t kMaxCandidatePairs = size_t{1} << 20;

// A frame's identity without its line: function, file and module name. Lines
// move when code above them is edited; they only break ties (below).
void AppendFrameKey(const report::Frame& f, std::string* key) {
  *key += f.function();
  *key += kFieldSep;
  *key += f.file();
  *key += kFieldSep;
  // The module's name, not its path: the same program built or installed elsewhere.
  *key += Basename(f.module());
  // Without a function name only the offset in the module tells frames apart.
  if (f.function().empty()) *key += kFieldSep + std::to_string(f.module_offset());
  *key += kFrameSep;
}

// The rows of one report with the same identity: summed.
struct Entry {
  std::vector<uint32_t> frames;
  std::vector<uint32_t> lines;  // per frame (--by stack only): the tie-breaker
  uint64_t live_bytes = 0, live_allocations = 0, allocations = 0;
};

// What a row is across reports. --by stack: its frames without lines. Grouped:
// what it was grouped by, taken from the call frame (the row's only frame).
std::string RowKey(const report::Report& report, const SiteRow& row, GroupBy by) {
  std::string key;
  if (by != GroupBy::kStack && !row.frames.empty()) {
    const report::Frame& f = FrameAt(report, row.frames[0]);
    const std::string piece = by == GroupBy::kFunction ? f.function()
                              : by == GroupBy::kFile   ? f.file()
                                                       : Basename(f.module());
    if (!piece.empty()) return piece;
  }
  for (uint32_t index : row.frames) AppendFrameKey(FrameAt(report, index), &key);
  return key;
}

std::vector<uint32_t> LinesOf(const report::Report& report, const SiteRow& row, GroupBy by) {
  std::vector<uint32_t> lines;
  if (by != GroupBy::kStack) return lines;  // a group spans lines
  for (uint32_t index : row.frames) lines.push_back(FrameAt(report, index).line());
  return lines;
}

// Both reports' entries under one identity.
struct Group {
  std::vector<Entry> base, now;
};

// Groups in the order first seen, so that the result does not depend on hashing.
struct Groups {
  std::unordered_map<std::string, size_t> index;
  std::vector<Group> groups;

  void Add(const report::Report& report, const SiteRow& row, GroupBy by, bool from_base) {
    auto [it, added] = index.emplace(RowKey(report, row, by), groups.size());
    if (added) groups.emplace_back();
    std::vector<Entry>& side = from_base ? groups[it->second].base : groups[it->second].now;
    std::vector<uint32_t> lines = LinesOf(report, row, by);
    auto same =
        std::find_if(side.begin(), side.end(), [&](const Entry& e) { return e.lines == lines; });
    if (same == side.end()) {
      side.emplace_back();
      same = side.end() - 1;
      same->frames = row.frames;
      same->lines = std::move(lines);
    }
    same->live_bytes += row.live_bytes;
    same->live_allocations += row.live_allocations;
    same->allocations += row.allocations;
  }
};

uint64_t LineDistance(const Entry& a, const Entry& b) {
  uint64_t d = 0;
  for (size_t i = 0; i < a.lines.size() && i < b.lines.size(); ++i)
    d += static_cast<uint64_t>(std::llabs(int64_t{a.lines[i]} - int64_t{b.lines[i]}));
  return d;
}

// Pairs of (base index, new index) in a group of look-alike sites, each
// side sorted by lines. Edits move lines but keep their order: the pairs keep
// it too, as many as the smaller side has, at the least total line distance.
// Code shifted by an edit above it pairs in order, and a site added among
// known ones is the one left over.
std::vector<std::pair<size_t, size_t>> Pair(const Group& g) {
  const bool swap = g.base.size() > g.now.size();  // pair the smaller side into the larger
  const std::vector<Entry>& few = swap ? g.now : g.base;
  const std::vector<Entry>& many = swap ? g.base : g.now;
  const size_t n = few.size(), m = many.size();
  std::vector<std::pair<size_t, size_t>> pairs;
  if (n == m || n * m > kMaxCandidatePairs) {
    for (size_t i = 0; i < n; ++i) pairs.emplace_back(i, i);
  } else {
    // cost[i][j]: least distance pairing few[0..i) into many[0..j) in order.
    constexpr uint64_t kNone = UINT64_MAX;
    std::vector<std::vector<uint64_t>> cost(n + 1, std::vector<uint64_t>(m + 1, kNone));
    for (size_t j = 0; j <= m; ++j) cost[0][j] = 0;
    for (size_t i = 1; i <= n; ++i) {
      for (size_t j = i; j <= m; ++j) {
        cost[i][j] = cost[i][j - 1];
        if (cost[i - 1][j - 1] != kNone)
          cost[i][j] =
              std::min(cost[i][j], cost[i - 1][j - 1] + LineDistance(few[i - 1], many[j - 1]));
      }
    }
    for (size_t i = n, j = m; i > 0; --j) {
      if (cost[i][j] != cost[i][j - 1]) pairs.emplace_back(--i, j - 1);
    }
  }
  if (swap)
    for (auto& [i, j] : pairs) std::swap(i, j);
  return pairs;
}

int64_t Difference(uint64_t now, uint64_t before) {
  return now >= before ? static_cast<int64_t>(std::min<uint64_t>(now - before, INT64_MAX))
                       : -static_cast<int64_t>(std::min<uint64_t>(before - now, INT64_MAX));
}

SiteChange::Kind KindOf(const SiteChange& c) {
  const bool base_live = c.base_live_bytes > 0 || c.base_live_allocations > 0;
  const bool new_live = c.new_live_bytes > 0 || c.new_live_allocations > 0;
  if (new_live && !base_live) return SiteChange::Kind::kNew;
  if (base_live && !new_live) return SiteChange::Kind::kVanished;
  return c.GrowthBytes() != 0 || c.GrowthAllocations() != 0 ? SiteChange::Kind::kChanged
                                                            : SiteChange::Kind::kSame;
}

// A change from an entry of either report, or both (NEW's frames shown).
SiteChange Change(const Entry* base, const Entry* now) {
  SiteChange c;
  if (base != nullptr) {
    c.base_live_bytes = base->live_bytes;
    c.base_live_allocations = base->live_allocations;
    c.base_allocations = base->allocations;
  }
  if (now != nullptr) {
    c.new_live_bytes = now->live_bytes;
    c.new_live_allocations = now->live_allocations;
    c.new_allocations = now->allocations;
  }
  c.frames_from_base = now == nullptr;
  c.frames = now != nullptr ? now->frames : base->frames;
  c.kind = KindOf(c);
  return c;
}

}  // namespace

int64_t SiteChange::GrowthBytes() const {
  return Difference(new_live_bytes, base_live_bytes);
}

int64_t SiteChange::GrowthAllocations() const {
  return Difference(new_live_allocations, base_live_allocations);
}

std::vector<SiteChange> DiffSites(const report::Report& base, const report::Report& now,
                                  const SiteFilter& filter) {
  Groups groups;
  for (const SiteRow& row : BuildSiteTable(base, filter).program)
    groups.Add(base, row, filter.by, true);
  for (const SiteRow& row : BuildSiteTable(now, filter).program)
    groups.Add(now, row, filter.by, false);
  std::vector<SiteChange> out;
  const auto keep = [&out](const SiteChange& c) {
    if (c.base_live_bytes + c.new_live_bytes + c.base_live_allocations + c.new_live_allocations > 0)
      out.push_back(c);
  };
  for (Group& g : groups.groups) {
    const auto by_lines = [](const Entry& a, const Entry& b) { return a.lines < b.lines; };
    std::stable_sort(g.base.begin(), g.base.end(), by_lines);
    std::stable_sort(g.now.begin(), g.now.end(), by_lines);
    std::vector<bool> base_paired(g.base.size()), now_paired(g.now.size());
    for (const auto& [i, j] : Pair(g)) {
      base_paired[i] = now_paired[j] = true;
      keep(Change(&g.base[i], &g.now[j]));
    }
    for (size_t i = 0; i < g.base.size(); ++i)
      if (!base_paired[i]) keep(Change(&g.base[i], nullptr));
    for (size_t j = 0; j < g.now.size(); ++j)
      if (!now_paired[j]) keep(Change(nullptr, &g.now[j]));
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
