#include "live_top.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "human_units.h"
#include "text_style.h"
#include "text_width.h"

namespace leakscope::viewer {
namespace {

// Right-aligned in `width` columns.
std::string Right(const std::string& s, size_t width) {
  return s.size() >= width ? s : std::string(width - s.size(), ' ') + s;
}

double Key(const TopRow& r, TopSort sort) {
  switch (sort) {
    case TopSort::kGrowth:
      return r.growth_per_second;
    case TopSort::kCount:
      return static_cast<double>(r.site.live_allocations);
    case TopSort::kLiveBytes:
      break;
  }
  return static_cast<double>(r.site.live_bytes);
}

}  // namespace

bool SortForKey(char key, TopSort* sort) {
  switch (key) {
    case 'b':
      return *sort = TopSort::kLiveBytes, true;
    case 'g':
      return *sort = TopSort::kGrowth, true;
    case 'c':
      return *sort = TopSort::kCount, true;
  }
  return false;
}

const char* SortName(TopSort sort) {
  switch (sort) {
    case TopSort::kGrowth:
      return "growth";
    case TopSort::kCount:
      return "count";
    case TopSort::kLiveBytes:
      break;
  }
  return "live bytes";
}

std::string HumanRate(double bytes_per_second) {
  const double magnitude = std::fabs(bytes_per_second);
  if (magnitude < 0.5) return "0 B/s";
  return (bytes_per_second > 0 ? "+" : "-") + HumanBytes(static_cast<uint64_t>(magnitude + 0.5)) +
         "/s";
}

void LiveTop::Add(const LiveProcess& process, double seconds) {
  if (process.pid != latest_.pid) history_.clear();  // another process: no common past
  latest_ = process;
  std::map<std::string, std::deque<std::pair<double, uint64_t>>> kept;
  for (const LiveSite& site : process.sites) {
    auto& series = kept[site.site_id];
    if (auto old = history_.find(site.site_id); old != history_.end()) series.swap(old->second);
    series.emplace_back(seconds, site.live_bytes);
    while (series.size() > 2 && series.front().first < seconds - window_) series.pop_front();
  }
  history_.swap(kept);  // sites out of the top list lose their past
}

std::vector<TopRow> LiveTop::Rows(TopSort sort) const {
  std::vector<TopRow> rows;
  for (const LiveSite& site : latest_.sites) {
    TopRow row{site, 0};
    const auto& series = history_.at(site.site_id);
    const double dt = series.back().first - series.front().first;
    if (dt > 0)
      row.growth_per_second =
          (static_cast<double>(series.back().second) - static_cast<double>(series.front().second)) /
          dt;
    rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(), [sort](const TopRow& a, const TopRow& b) {
    if (Key(a, sort) != Key(b, sort)) return Key(a, sort) > Key(b, sort);
    if (a.site.live_bytes != b.site.live_bytes) return a.site.live_bytes > b.site.live_bytes;
    return a.site.site_id < b.site.site_id;
  });
  return rows;
}

std::vector<std::string> RenderTop(const LiveTop& top, TopSort sort, const TopFrame& frame) {
  const TextStyle style(frame.color);
  const LiveProcess& p = top.latest();
  std::vector<std::string> lines;
  lines.push_back(style.Bold("leakscope top") + "  " + Printable(frame.source) + "  " +
                  WithThousands(frame.processes) + " traced  sort: " + SortName(sort) +
                  "  [b]ytes [g]rowth [c]ount [q]uit");
  if (!frame.message.empty()) {
    lines.push_back(Printable(frame.message));
  } else {
    lines.push_back("pid " + std::to_string(p.pid) + " " + Printable(p.exe));
    lines.push_back("live heap " + HumanBytes(p.live_bytes) + " in " +
                    CountOf(p.live_allocations, "allocation", "allocations") + "   RSS " +
                    HumanBytes(p.rss_bytes));
    lines.push_back("");
    lines.push_back(style.Bold("SITE_ID   " + Right("LIVE", 11) + Right("COUNT", 12) +
                               Right("GROWTH", 14) + "  CALL SITE"));
    for (const TopRow& r : top.Rows(sort))
      lines.push_back(r.site.site_id + "  " + style.Size(Right(HumanBytes(r.site.live_bytes), 11)) +
                      Right(WithThousands(r.site.live_allocations), 12) +
                      Right(HumanRate(r.growth_per_second), 14) + "  " + Printable(r.site.site));
  }
  if (frame.height && lines.size() > frame.height) lines.resize(frame.height);
  for (std::string& line : lines) line = FitLine(line, frame.width);
  return lines;
}

}  // namespace leakscope::viewer
