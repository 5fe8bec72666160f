// wire.ExitMarker: blocks live when exit began and freed after it are "held
// until shutdown", per site and in total; nothing else is. Figures are worked
// out in the comments from the events.
#include <gtest/gtest.h>

#include <string>

#include "process_state.h"
#include "report_builder.h"
#include "stream_decoder.h"
#include "wire_test_encoder.h"

namespace leakscope::collector {
namespace {

using testing::AddStack;
using testing::EventsBuilder;
using testing::HelloMessage;

uint64_t Bytes(uint64_t fp) {
  return FromFixed(fp, kByteFracBits);
}
uint64_t Count(uint64_t fp) {
  return FromFixed(fp, kCountFracBits);
}

wire::Message ExitMarker() {
  wire::Message m;
  m.mutable_exit_marker()->set_how("return from main");
  return m;
}

// Site A (stack 1): the cache; site B (stack 2): everything else.
class ShutdownSequence : public ::testing::Test {
 protected:
  void SetUp() override {
    wire::Message m = HelloMessage(7, "/bin/prog");
    AddStack(&m, 1, {0xa1});
    AddStack(&m, 2, {0xb1});
    *m.mutable_events() = e.Alloc(0x1000, 100, 1)     // A, freed at shutdown
                              .Alloc(0x2000, 200, 1)  // A, freed at shutdown
                              .Alloc(0x3000, 30, 2)   // B, freed before exit
                              .Alloc(0x4000, 40, 2)   // B, never freed: a leak
                              .Free(0x3000)
                              .Build(10);
    state.Apply(m);
    EXPECT_FALSE(state.exit_began());
    wire::Message marker = ExitMarker();
    *marker.mutable_events() = e.Alloc(0x5000, 50, 2).Build(20);  // before the marker
    state.Apply(marker);
    wire::Message teardown;
    *teardown.mutable_events() = e.Free(0x1000)
                                     .Alloc(0x6000, 60, 1)  // after the marker
                                     .Free(0x6000)          // not held: born in teardown
                                     .Free(0x2000)
                                     .Free(0x5000)  // held (B): its message's events came first
                                     .Free(0x7777)  // unmatched: nothing held
                                     .Build(30);
    state.Apply(teardown);
    state.Apply(ExitMarker());  // a second marker changes nothing
  }
  EventsBuilder e;
  ProcessState state;
};

TEST_F(ShutdownSequence, BlocksLiveAtTheMarkerAndFreedAfterAreHeld) {
  EXPECT_TRUE(state.exit_began());
  ASSERT_EQ(state.site_count(), 2u);
  const SiteStats a = state.site(0);
  EXPECT_EQ(Bytes(a.shutdown_freed_bytes_fp), 300u);  // 0x1000 + 0x2000
  EXPECT_EQ(Count(a.shutdown_freed_count_fp), 2u);
  EXPECT_EQ(Bytes(a.live_bytes_fp), 0u);
  const SiteStats b = state.site(1);
  EXPECT_EQ(Bytes(b.shutdown_freed_bytes_fp), 50u);  // 0x5000
  EXPECT_EQ(Count(b.shutdown_freed_count_fp), 1u);
  EXPECT_EQ(Bytes(b.live_bytes_fp), 40u);  // 0x4000 leaked
  const ProcessTotals& t = state.totals();
  EXPECT_EQ(Bytes(t.shutdown_freed_bytes_fp), 350u);
  EXPECT_EQ(Count(t.shutdown_freed_count_fp), 3u);
  EXPECT_EQ(t.unmatched_frees, 1u);
}

TEST_F(ShutdownSequence, ReportHasTheFiguresPerSiteAndInTotal) {
  const report::Report r =
      BuildReport(state, ReportContext{}, [](uint64_t pc) -> const std::vector<SymbolizedFrame>& {
        static const std::vector<SymbolizedFrame> a = {{"Cache()", "c.cc", 1, "/bin/prog"}};
        static const std::vector<SymbolizedFrame> b = {{"Other()", "o.cc", 2, "/bin/prog"}};
        return pc == 0xa0 ? a : b;
      });
  EXPECT_TRUE(r.process().exit_began());
  EXPECT_EQ(r.totals().shutdown_freed_bytes(), 350u);
  EXPECT_EQ(r.totals().shutdown_freed_allocations(), 3u);
  ASSERT_EQ(r.sites_size(), 2);
  // By live bytes: B (40 live) first.
  EXPECT_EQ(r.frames(r.sites(0).frames(0)).function(), "Other()");
  EXPECT_EQ(r.sites(0).shutdown_freed_bytes(), 50u);
  EXPECT_EQ(r.sites(0).shutdown_freed_allocations(), 1u);
  EXPECT_EQ(r.frames(r.sites(1).frames(0)).function(), "Cache()");
  EXPECT_EQ(r.sites(1).shutdown_freed_bytes(), 300u);
  EXPECT_EQ(r.sites(1).shutdown_freed_allocations(), 2u);
}

TEST(ShutdownMarker, WithoutAMarkerNothingIsHeld) {
  ProcessState state;
  wire::Message m = HelloMessage(7, "/bin/prog");
  AddStack(&m, 1, {0xa1});
  *m.mutable_events() = EventsBuilder().Alloc(0x1000, 100, 1).Free(0x1000).Build(10);
  state.Apply(m);
  EXPECT_FALSE(state.exit_began());
  EXPECT_EQ(state.totals().shutdown_freed_count_fp, 0u);
  EXPECT_EQ(state.site(0).shutdown_freed_bytes_fp, 0u);
  const report::Report r = BuildReport(state, ReportContext{});
  EXPECT_FALSE(r.process().exit_began());
  EXPECT_EQ(r.totals().shutdown_freed_bytes(), 0u);
}

// A forked child's inherited blocks (sequence number 0) were live at its exit
// too; a site that only ever held inherited blocks is still reported.
TEST(ShutdownMarker, InheritedBlocksFreedAtShutdownAreHeld) {
  ProcessState parent;
  wire::Message p = HelloMessage(7, "/bin/prog");
  AddStack(&p, 1, {0xa1});
  *p.mutable_events() = EventsBuilder().Alloc(0x1000, 100, 1).Build(5);
  parent.Apply(p);
  ForkSnapshot snapshot = parent.SnapshotForFork();
  ProcessState child;
  wire::Message c = HelloMessage(8, "/bin/prog");
  c.mutable_hello()->set_forked(true);
  c.mutable_hello()->set_fork_id(1);
  child.Apply(c, &snapshot);
  child.Apply(ExitMarker());
  wire::Message teardown;
  *teardown.mutable_events() = EventsBuilder().Free(0x1000).Build(6);
  child.Apply(teardown);
  EXPECT_EQ(Bytes(child.totals().shutdown_freed_bytes_fp), 100u);
  const report::Report r =
      BuildReport(child, ReportContext{}, [](uint64_t) -> const std::vector<SymbolizedFrame>& {
        static const std::vector<SymbolizedFrame> f = {{"Inherited()", "i.cc", 3, "/bin/prog"}};
        return f;
      });
  ASSERT_EQ(r.sites_size(), 1);
  EXPECT_EQ(r.sites(0).shutdown_freed_bytes(), 100u);
  EXPECT_EQ(r.sites(0).shutdown_freed_allocations(), 1u);
}

// The decoder passes the marker on in its frame's message, in stream order.
TEST(ShutdownMarker, DecoderDeliversTheMarkerInOrder) {
  std::vector<std::string> seen;
  StreamDecoder decoder([&](const wire::Message& m) {
    seen.push_back(m.has_exit_marker() ? "marker:" + m.exit_marker().how()
                                       : std::to_string(m.events().size_plus_one_size()));
  });
  wire::Message events;
  AddStack(&events, 1, {0xa1});
  *events.mutable_events() = EventsBuilder().Alloc(0x1000, 8, 1).Build(1);
  wire::Message after;
  *after.mutable_events() = EventsBuilder().Free(0x1000).Build(2);
  const std::string stream = testing::StreamHeader() + testing::Frame(HelloMessage(7, "/bin/p")) +
                             testing::Frame(events) + testing::Frame(ExitMarker()) +
                             testing::Frame(after);
  ASSERT_TRUE(decoder.Feed(stream.data(), stream.size())) << decoder.error();
  EXPECT_EQ(seen, (std::vector<std::string>{"0", "1", "marker:return from main", "1"}));
}

}  // namespace
}  // namespace leakscope::collector
