// Timeline: sampling on the process's clock, halving when full, per-site
// slots for the largest sites, and what BuildReport makes of it.
#include "timeline.h"

#include <gtest/gtest.h>

#include "report_builder.h"
#include "wire_test_encoder.h"

namespace leakscope::collector {
namespace {

using testing::AddStack;
using testing::EventsBuilder;
using testing::HelloMessage;

wire::Message StatsAt(uint64_t time_ns, uint64_t rss) {
  wire::Message m;
  m.mutable_stats()->set_time_ns(time_ns);
  m.mutable_stats()->set_rss_bytes(rss);
  return m;
}

std::vector<uint64_t> Times(const Timeline& t) {
  std::vector<uint64_t> out;
  for (const auto& p : t.points()) out.push_back(p.time_ns);
  return out;
}

TEST(Timeline, SamplesEveryIntervalOfTheProcessClock) {
  ProcessState state;
  state.Apply(HelloMessage(1, "/bin/t"));
  Timeline t(100, 512);
  for (uint64_t time : {50, 100, 150, 199, 210, 320, 330}) {
    wire::Message m = StatsAt(time, time * 10);
    state.Apply(m);
    t.Observe(state, m);
  }
  EXPECT_EQ(Times(t), (std::vector<uint64_t>{50, 150, 320}));
  EXPECT_EQ(t.points()[2].rss_bytes, 3200u);
  EXPECT_EQ(t.last_time_ns(), 330u);
}

TEST(Timeline, HalvesWhenFullAndDoublesItsInterval) {
  ProcessState state;
  state.Apply(HelloMessage(1, "/bin/t"));
  Timeline t(100, 8);
  for (uint64_t time = 100; time <= 1100; time += 100) t.Observe(state, StatsAt(time, 0));
  // 100..800 fill it; 900 keeps 200,400,600,800 and is added; the interval
  // is now 200, so 1000 is skipped and 1100 taken.
  EXPECT_EQ(Times(t), (std::vector<uint64_t>{200, 400, 600, 800, 900, 1100}));
  EXPECT_EQ(t.interval_ns(), 200u);
}

TEST(Timeline, BoundedHoweverLongItRuns) {
  ProcessState state;
  state.Apply(HelloMessage(1, "/bin/t"));
  Timeline t(100'000'000, 512);
  // A week at 100 ms.
  for (uint64_t i = 1; i <= 7 * 24 * 36000; ++i) t.Observe(state, StatsAt(i * 100'000'000, 0));
  EXPECT_LE(t.points().size(), 512u);
  EXPECT_GE(t.points().size(), 256u);
  // Evenly spaced over the whole week, the last within one interval of its end.
  const uint64_t week = 7ull * 24 * 3600 * 1'000'000'000;
  EXPECT_LE(t.points().back().time_ns, week);
  EXPECT_GT(t.points().back().time_ns + t.interval_ns(), week);
  EXPECT_LT(t.points().front().time_ns, 2 * t.interval_ns());
  EXPECT_EQ(t.last_time_ns(), week);
}

TEST(Timeline, TracksTheLargestSitesInSlots) {
  ProcessState state;
  wire::Message hello = HelloMessage(1, "/bin/t");
  for (uint32_t id = 1; id <= Timeline::kTrackedSites + 1; ++id) AddStack(&hello, id, {id * 16});
  state.Apply(hello);
  Timeline t(1, 512);
  // Sites 0..16 hold 100, 200, ... bytes; the smallest (site 0) has no slot.
  for (uint32_t s = 0; s <= Timeline::kTrackedSites; ++s)
    state.Allocate(0x1000 + s * 0x100, 100 * (s + 1), s, 1);
  t.Sample(state, 1);
  auto slots = t.slot_sites();
  EXPECT_EQ(std::count(slots.begin(), slots.end(), 0u), 0);
  for (uint32_t s = 1; s <= Timeline::kTrackedSites; ++s)
    EXPECT_EQ(std::count(slots.begin(), slots.end(), s), 1) << s;
  // Site 0 grows past site 1: it takes site 1's slot, whose history is unknown.
  state.Allocate(0x9000, 1000, 0, 2);
  t.Sample(state, 2);
  slots = t.slot_sites();
  size_t slot0 = std::find(slots.begin(), slots.end(), 0u) - slots.begin();
  ASSERT_LT(slot0, Timeline::kTrackedSites);
  EXPECT_EQ(std::count(slots.begin(), slots.end(), 1u), 0);
  EXPECT_EQ(t.points()[0].site_bytes[slot0], Timeline::kUnknown);
  EXPECT_EQ(t.points()[1].site_bytes[slot0], 1100u);
}

TEST(Timeline, ReportHasPointsAndTheGrowingSiteAsOnlySuspect) {
  ProcessState state;
  wire::Message hello = HelloMessage(1, "/bin/t");
  AddStack(&hello, 1, {0x11});  // grows
  AddStack(&hello, 2, {0x21});  // sawtooth
  state.Apply(hello);
  Timeline t(100, 512);
  for (uint64_t i = 1; i <= 30; ++i) {
    wire::Message m;
    EventsBuilder e;
    e.Alloc(0x100000 + i * 0x100, 1000, 1);
    if (i % 5 == 0) {
      for (uint64_t j = i - 4; j < i; ++j) e.Free(0x900000 + j * 0x100);
    } else {
      e.Alloc(0x900000 + i * 0x100, 3000, 2);
    }
    *m.mutable_events() = e.Build(i * 100);
    m.mutable_stats()->set_rss_bytes(1 << 20);
    state.Apply(m);
    t.Observe(state, m);
  }
  ReportContext context;
  context.timeline = &t;
  report::Report r = BuildReport(
      state, context, [](uint64_t pc) -> const auto& {
        static std::map<uint64_t, std::vector<SymbolizedFrame>> frames;
        SymbolizedFrame f;
        f.function = pc == 0x10 ? "Grow()" : "Saw()";
        return frames[pc] = {f};
      });
  ASSERT_EQ(r.timeline_size(), 30);
  const auto& last = r.timeline(29);
  EXPECT_EQ(last.time_ns(), 3000u);
  EXPECT_EQ(last.live_bytes(), 30000u);  // the sawtooth freed everything at i = 30
  EXPECT_EQ(last.rss_bytes(), 1u << 20);
  EXPECT_EQ(last.allocations(), 30u + 24u);
  EXPECT_EQ(last.frees(), 24u);
  ASSERT_EQ(r.growth_suspects_size(), 1);
  const auto& suspect = r.growth_suspects(0);
  EXPECT_EQ(r.frames(r.sites(suspect.site()).frames(0)).function(), "Grow()");
  // 1000 bytes per 100 ns.
  EXPECT_NEAR(suspect.bytes_per_hour(), 1000.0 / 100 * 3600e9, 1e-3 * 3.6e13);
  EXPECT_NEAR(suspect.confidence(), 1.0, 1e-9);
  bool found = false;
  for (const auto& sb : last.top_sites())
    if (sb.site() == suspect.site()) found = (sb.live_bytes() == 30000u);
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace leakscope::collector
