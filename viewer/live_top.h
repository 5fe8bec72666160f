// `leakscope top`'s view, apart from the terminal: it keeps each site's
// recent live bytes to give its growth rate, orders the sites by the key
// the reader chose, and lays out one screen of text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "live_metrics.h"

namespace leakscope::viewer {

enum class TopSort { kLiveBytes, kGrowth, kCount };

// The sort key a key press asks for ('b', 'g', 'c'); false for other keys.
bool SortForKey(char key, TopSort* sort);
const char* SortName(TopSort sort);

struct TopRow {
  LiveSite site;
  double growth_per_second = 0;  // live bytes, over the growth window
};

class LiveTop {
 public:
  // Growth is measured over the latest `window_seconds` of samples.
  explicit LiveTop(double window_seconds = 10) : window_(window_seconds) {}

  // A new sample of `process` taken at `seconds` (a monotonic clock).
  void Add(const LiveProcess& process, double seconds);

  // The sites of the latest sample, ordered by `sort` (ties: live bytes,
  // then site id, so the order is stable between refreshes).
  std::vector<TopRow> Rows(TopSort sort) const;
  const LiveProcess& latest() const { return latest_; }

 private:
  double window_;
  LiveProcess latest_;
  std::map<std::string, std::deque<std::pair<double, uint64_t>>> history_;  // by site id
};

// What frames the screen: where the figures come from and what else is there.
struct TopFrame {
  std::string source;            // "127.0.0.1:9464"
  size_t processes = 0;          // traced processes the collector serves
  std::string message;           // a problem to show instead of the sites ("" if none)
  size_t width = 0, height = 0;  // 0: no limit
  bool color = false;
};

// The screen's lines, each fitted to frame.width, at most frame.height.
std::vector<std::string> RenderTop(const LiveTop& top, TopSort sort, const TopFrame& frame);

// "+1.5 KiB/s", "-512 B/s", "0 B/s".
std::string HumanRate(double bytes_per_second);

}  // namespace leakscope::viewer
