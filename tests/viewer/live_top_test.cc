// `leakscope top`'s pieces apart from the terminal: reading /metrics text,
// growth over the window, the sort keys, the screen's lines, the arguments.
#include "live_top.h"

#include <gtest/gtest.h>

#include "live_metrics.h"
#include "top_command.h"

namespace leakscope::viewer {
namespace {

const char kText[] =
    "# HELP leakscope_live_bytes Heap bytes allocated and not freed.\n"
    "# TYPE leakscope_live_bytes gauge\n"
    "leakscope_live_bytes{pid=\"7\",exe=\"/bin/a\\\"b\",service=\"x\"} 300\n"
    "leakscope_live_allocations{pid=\"7\",exe=\"/bin/a\\\"b\"} 3\n"
    "leakscope_rss_bytes{pid=\"7\",exe=\"/bin/a\\\"b\"} 4096\n"
    "leakscope_live_bytes{pid=\"9\",exe=\"/bin/c\"} 5\n"
    "leakscope_site_live_bytes{pid=\"7\",exe=\"/bin/a\\\"b\",site=\"Grow(int) g.cc:12\","
    "site_id=\"0a1b2c3d\"} 200\n"
    "leakscope_site_live_allocations{pid=\"7\",exe=\"/bin/a\\\"b\",site=\"Grow(int) g.cc:12\","
    "site_id=\"0a1b2c3d\"} 2\n"
    "leakscope_site_live_bytes{pid=\"7\",exe=\"/bin/a\\\"b\",site=\"Keep() k.cc:3\","
    "site_id=\"11111111\"} 100\n"
    "leakscope_site_live_allocations{pid=\"7\",exe=\"/bin/a\\\"b\",site=\"Keep() k.cc:3\","
    "site_id=\"11111111\"} 50\n"
    "leakscope_processes 2\n"
    "garbage{pid=\"7\n";

TEST(LiveMetrics, ReadsProcessesAndSitesWhateverOtherLabelsThereAre) {
  const auto processes = ParseLiveMetrics(kText);
  ASSERT_EQ(processes.size(), 2u);
  const LiveProcess& p = processes.at(7);
  EXPECT_EQ(p.exe, "/bin/a\"b");
  EXPECT_EQ(p.live_bytes, 300u);
  EXPECT_EQ(p.live_allocations, 3u);
  EXPECT_EQ(p.rss_bytes, 4096u);
  ASSERT_EQ(p.sites.size(), 2u);
  EXPECT_EQ(p.sites[0].site_id, "0a1b2c3d");
  EXPECT_EQ(p.sites[0].site, "Grow(int) g.cc:12");
  EXPECT_EQ(p.sites[0].live_bytes, 200u);
  EXPECT_EQ(p.sites[0].live_allocations, 2u);
  EXPECT_EQ(p.sites[1].live_allocations, 50u);
  EXPECT_EQ(processes.at(9).live_bytes, 5u);
}

TEST(LiveMetrics, Addresses) {
  std::string host, port;
  for (const char* ok :
       {"127.0.0.1:9464", "http://127.0.0.1:9464", "http://127.0.0.1:9464/metrics"}) {
    EXPECT_TRUE(ParseMetricsAddress(ok, &host, &port)) << ok;
    EXPECT_EQ(host, "127.0.0.1");
    EXPECT_EQ(port, "9464");
  }
  EXPECT_TRUE(ParseMetricsAddress("[::1]:80", &host, &port));
  EXPECT_EQ(host, "::1");
  for (const char* bad : {"", "9464", ":9464", "host:", "host:http", "h:1/debug", "h:123456"})
    EXPECT_FALSE(ParseMetricsAddress(bad, &host, &port)) << bad;
}

LiveProcess Process(uint64_t grow_bytes) {
  LiveProcess p = ParseLiveMetrics(kText).at(7);
  p.sites[0].live_bytes = grow_bytes;
  return p;
}

TEST(LiveTop, GrowthOverTheWindowAndEachSortKey) {
  LiveTop top(10);
  top.Add(Process(200), 100.0);
  EXPECT_EQ(top.Rows(TopSort::kGrowth)[0].growth_per_second, 0);  // one look: no rate yet
  top.Add(Process(1200), 102.0);
  top.Add(Process(4200), 110.0);
  auto rows = top.Rows(TopSort::kGrowth);
  EXPECT_EQ(rows[0].site.site_id, "0a1b2c3d");
  EXPECT_DOUBLE_EQ(rows[0].growth_per_second, 400);  // (4200 - 200) / 10 s
  top.Add(Process(4300), 113.0);                     // 100 s and 102 s leave the window
  EXPECT_DOUBLE_EQ(top.Rows(TopSort::kGrowth)[0].growth_per_second, 100.0 / 3);  // from 110 s
  EXPECT_EQ(top.Rows(TopSort::kCount)[0].site.site_id, "11111111");
  EXPECT_EQ(top.Rows(TopSort::kLiveBytes)[0].site.site_id, "0a1b2c3d");
}

TEST(LiveTop, ScreenLinesFitTheWidth) {
  LiveTop top;
  top.Add(Process(2048), 1.0);
  TopFrame f;
  f.source = "127.0.0.1:9464";
  f.processes = 2;
  const auto lines = RenderTop(top, TopSort::kCount, f);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_EQ(
      lines[0],
      "leakscope top  127.0.0.1:9464  2 traced  sort: count  [b]ytes [g]rowth [c]ount [q]uit");
  EXPECT_EQ(lines[1], "pid 7 /bin/a\"b");
  EXPECT_EQ(lines[2], "live heap 300 B in 3 allocations   RSS 4.0 KiB");
  EXPECT_EQ(lines[4], "SITE_ID          LIVE       COUNT        GROWTH  CALL SITE");
  EXPECT_EQ(lines[5], "11111111        100 B          50         0 B/s  Keep() k.cc:3");
  EXPECT_EQ(lines[6], "0a1b2c3d      2.0 KiB           2         0 B/s  Grow(int) g.cc:12");
  f.width = 40;
  f.height = 3;
  const auto narrow = RenderTop(top, TopSort::kCount, f);
  ASSERT_EQ(narrow.size(), 3u);
  EXPECT_EQ(narrow[0], "leakscope top  127.0.0.1:9464  2 trac...");
  f.message = "no traced process is connected";
  EXPECT_EQ(RenderTop(top, TopSort::kCount, f)[1], "no traced process is connected");
}

TEST(LiveTop, Rates) {
  EXPECT_EQ(HumanRate(0.2), "0 B/s");
  EXPECT_EQ(HumanRate(1536), "+1.5 KiB/s");
  EXPECT_EQ(HumanRate(-512), "-512 B/s");
}

TEST(TopArgs, ParsesAndRefuses) {
  TopArgs a;
  std::string error;
  EXPECT_EQ(ParseTopArgs({"127.0.0.1:1", "--pid", "42", "--sort", "growth", "--interval", "2"}, &a,
                         &error),
            ParseOutcome::kOk);
  EXPECT_EQ(a.port, "1");
  EXPECT_EQ(a.pid, 42u);
  EXPECT_EQ(a.sort, TopSort::kGrowth);
  EXPECT_EQ(a.interval_ms, 2000u);
  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{}, "which collector? give its metrics address (leakscoped --metrics, run --metrics)"},
      {{"a:1", "b:2"}, "one collector address only ('b:2' is a second)"},
      {{"a:1", "--sort", "size"}, "--sort takes bytes, growth or count, not 'size'"},
      {{"a:1", "--interval", "0"}, "option '--interval' needs a whole number >= 1, got '0'"},
      {{"a:1", "--frobnicate"}, "unknown option '--frobnicate' (see 'leakscope top --help')"}};
  for (const auto& [args, message] : bad) {
    TopArgs t;
    std::string e;
    EXPECT_EQ(ParseTopArgs(args, &t, &e), ParseOutcome::kError);
    EXPECT_EQ(e, message);
  }
}

}  // namespace
}  // namespace leakscope::viewer
