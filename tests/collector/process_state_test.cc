// ProcessState: a hand-written event sequence and the exact figures it must
// produce. Expected values are worked out in the comments from the events.
#include "process_state.h"

#include <gtest/gtest.h>

#include <cmath>

#include "report_builder.h"
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

// Stacks 1 and 3 have the same pcs: one site, A. Stack 2 is site B.
class ExactSequence : public ::testing::Test {
 protected:
  void SetUp() override {
    wire::Message m = HelloMessage(7, "/bin/prog");
    AddStack(&m, 1, {0xa1, 0xa2});
    AddStack(&m, 2, {0xb1});
    AddStack(&m, 3, {0xa1, 0xa2});
    EventsBuilder e;
    *m.mutable_events() = e.Alloc(0x1000, 100, 1)    // live 100, peak
                              .Alloc(0x2000, 50, 2)  // live 150, peak
                              .Free(0x1000)          // live 50
                              .Alloc(0x3000, 30, 3)  // live 80
                              .Free(0x3000)          // live 50; temporary (A)
                              .Free(0x9999)          // unmatched
                              .Build(100);
    state.Apply(m);
    wire::Message m2;
    *m2.mutable_events() = e.Alloc(0x4000, 200, 1)     // live 250, peak
                               .Alloc(0x6000, 10, 2)   // live 260, peak: A 200, B 60
                               .Free(0x4000)           // realloc: free...
                               .Alloc(0x5000, 150, 1)  // ...then allocate; live 210
                               .Alloc(0x2000, 70, 2)   // replaces B's 50: live 230
                               .Build(200);
    state.Apply(m2);
    wire::Message m3;
    *m3.mutable_events() = e.Free(0x6000).Build(300);  // live 220
    state.Apply(m3);
  }
  ProcessState state;
};

TEST_F(ExactSequence, SitesMergeStacksWithTheSamePcs) {
  ASSERT_EQ(state.site_count(), 2u);
  EXPECT_EQ(state.site_pcs(0), (std::vector<uint64_t>{0xa1, 0xa2}));
  EXPECT_EQ(state.site_pcs(1), (std::vector<uint64_t>{0xb1}));
}

// Many stacks over several messages (the site index grows many times):
// ids 1..6000 carry 2000 distinct pcs lists three times each, in three
// messages; a prefix, an extension and the empty list are sites of their own.
TEST(ProcessState, SitesMergeStacksWithTheSamePcsAcrossGrowth) {
  ProcessState state;
  state.Apply(HelloMessage(7, "/bin/prog"));
  auto pcs = [](uint32_t k) {
    return std::vector<uint64_t>{0x400000 + k, 0x500000 + k % 7, 0x600000};
  };
  uint32_t id = 0;
  for (int copy = 0; copy < 3; ++copy) {
    wire::Message m;
    for (uint32_t k = 0; k < 2000; ++k) AddStack(&m, ++id, pcs(k));
    state.Apply(m);
  }
  wire::Message m;
  AddStack(&m, ++id, {0x400000, 0x500000});                      // a prefix of pcs(0)
  AddStack(&m, ++id, {0x400000, 0x500000, 0x600000, 0x600000});  // pcs(0), one frame more
  AddStack(&m, ++id, {});
  AddStack(&m, ++id, {});
  state.Apply(m);
  ASSERT_EQ(state.site_count(), 2003u);
  for (uint32_t k = 0; k < 2000; ++k) ASSERT_EQ(state.site_pcs(k), pcs(k)) << k;
  EXPECT_EQ(state.site_pcs(2000), (std::vector<uint64_t>{0x400000, 0x500000}));
  EXPECT_EQ(state.site_pcs(2001), (std::vector<uint64_t>{0x400000, 0x500000, 0x600000, 0x600000}));
  EXPECT_TRUE(state.site_pcs(2002).empty());
  // Stack 4001 is the third copy of pcs(0): an allocation there is site 0's.
  wire::Message events;
  *events.mutable_events() =
      EventsBuilder().Alloc(0x1000, 64, 4001).Alloc(0x2000, 32, 6004).Build(1);
  state.Apply(events);
  EXPECT_EQ(Bytes(state.site(0).live_bytes_fp), 64u);
  EXPECT_EQ(Bytes(state.site(2002).live_bytes_fp), 32u);
}

TEST_F(ExactSequence, SiteFigures) {
  SiteStats a = state.site(0);
  EXPECT_EQ(Bytes(a.live_bytes_fp), 150u);  // 0x5000
  EXPECT_EQ(Count(a.live_count_fp), 1u);
  EXPECT_EQ(Bytes(a.allocated_bytes_fp), 100u + 30 + 200 + 150);
  EXPECT_EQ(Count(a.allocated_count_fp), 4u);
  EXPECT_EQ(Count(a.temporary_count_fp), 1u);  // 0x3000
  EXPECT_EQ(Bytes(a.at_peak_bytes_fp), 200u);  // 0x4000 at the peak
  EXPECT_EQ(a.live_samples, 1u);
  SiteStats b = state.site(1);
  EXPECT_EQ(Bytes(b.live_bytes_fp), 70u);  // 0x2000 (second)
  EXPECT_EQ(Count(b.live_count_fp), 1u);
  EXPECT_EQ(Bytes(b.allocated_bytes_fp), 50u + 10 + 70);
  EXPECT_EQ(Count(b.allocated_count_fp), 3u);
  EXPECT_EQ(Count(b.temporary_count_fp), 0u);
  EXPECT_EQ(Bytes(b.at_peak_bytes_fp), 60u);  // 0x2000 (first) + 0x6000
}

TEST_F(ExactSequence, Totals) {
  const ProcessTotals& t = state.totals();
  EXPECT_EQ(Count(t.allocated_count_fp), 7u);
  EXPECT_EQ(Count(t.freed_count_fp), 4u);  // 0x1000 0x3000 0x4000 0x6000
  EXPECT_EQ(Bytes(t.allocated_bytes_fp), 610u);
  EXPECT_EQ(Bytes(t.live_bytes_fp), 220u);
  EXPECT_EQ(Count(t.live_count_fp), 2u);
  EXPECT_EQ(Bytes(t.peak_live_bytes_fp), 260u);
  EXPECT_EQ(t.peak_time_ns, 200u);
  EXPECT_EQ(t.unmatched_frees, 1u);
  EXPECT_EQ(t.replaced_allocations, 1u);
  EXPECT_EQ(t.events, 12u);
  EXPECT_EQ(state.live_table_size(), 2u);
}

TEST_F(ExactSequence, AtPeakFollowsALaterHigherPeak) {
  // One more allocation on B beyond the old peak: 220 + 100 = 320.
  wire::Message m;
  AddStack(&m, 4, {0xb1});
  *m.mutable_events() = EventsBuilder().Alloc(0x7000, 100, 4).Build(400);
  state.Apply(m);
  EXPECT_EQ(Bytes(state.totals().peak_live_bytes_fp), 320u);
  EXPECT_EQ(state.totals().peak_time_ns, 400u);
  EXPECT_EQ(Bytes(state.site(0).at_peak_bytes_fp), 150u);
  EXPECT_EQ(Bytes(state.site(1).at_peak_bytes_fp), 170u);
}

TEST_F(ExactSequence, EventsWithoutAStackGoToOneSiteWithoutFrames) {
  wire::Message m;  // stack id 0: the shim had no memory left to store the stack
  *m.mutable_events() = EventsBuilder().Alloc(0x8000, 40, 0).Alloc(0x9000, 2, 0).Build(500);
  const size_t sites = state.site_count();
  state.Apply(m);
  ASSERT_EQ(state.site_count(), sites + 1);
  EXPECT_TRUE(state.site_pcs(sites).empty());
  EXPECT_EQ(Bytes(state.site(sites).live_bytes_fp), 42u);
  EXPECT_EQ(Count(state.site(sites).live_count_fp), 2u);
}

TEST(ProcessState, ModulesAreKeptAfterDlclose) {
  ProcessState state;
  wire::Message m = HelloMessage(1, "/bin/x");
  for (const char* path : {"/bin/x", "/lib/plugin.so"}) {
    wire::Module* mod = m.add_modules();
    mod->set_path(path);
    mod->set_load_bias(path[1] == 'b' ? 0 : 0x7000);
    mod->add_exec_ranges(0x1000);
    mod->add_exec_ranges(0x2000);
  }
  state.Apply(m);
  wire::Message after;  // the complete map again, without the plugin
  *after.add_modules() = m.modules(0);
  state.Apply(after);
  ASSERT_EQ(state.modules().size(), 2u);
  EXPECT_EQ(state.modules()[1].path, "/lib/plugin.so");
  EXPECT_EQ(state.modules()[1].load_bias, 0x7000u);
  EXPECT_EQ(state.modules()[1].exec_ranges,
            (std::vector<std::pair<uint64_t, uint64_t>>{{0x1000, 0x2000}}));
}

TEST(ProcessState, StatsAndGoodbye) {
  ProcessState state;
  state.Apply(HelloMessage(1, "/bin/x"));
  wire::Message s1;
  s1.mutable_stats()->set_dropped_events(5);
  s1.mutable_stats()->set_reentrant_events(2);
  s1.mutable_stats()->set_rss_bytes(4096);
  state.Apply(s1);
  wire::Message s2;
  s2.mutable_stats()->set_dropped_events(9);
  s2.mutable_stats()->set_rss_bytes(1024);
  s2.mutable_goodbye()->set_how("exit");
  state.Apply(s2);
  EXPECT_EQ(state.stats().dropped_events, 9u);
  EXPECT_EQ(state.stats().reentrant_events, 2u);
  EXPECT_EQ(state.stats().rss_bytes, 1024u);
  EXPECT_TRUE(state.has_goodbye());
  EXPECT_EQ(state.goodbye().how(), "exit");
}

// Sampled mode, R = 4096: each sample of s < R bytes weighs s/p bytes and 1/p
// allocations with p = 1 - exp(-s/R); one of s >= R bytes was certain (p = 1).
struct Expected {
  double bytes = 0, count = 0, variance = 0;
  void Add(double s) {
    double p = s >= 4096.0 ? 1.0 : 1.0 - std::exp(-s / 4096.0);
    bytes += s / p;
    count += 1.0 / p;
    variance += (1.0 - p) * (s / p) * (s / p);
  }
};

TEST(ProcessState, SampledWeights) {
  ProcessState state;
  wire::Message m = HelloMessage(1, "/bin/x", 4096);
  AddStack(&m, 1, {0xa1});
  *m.mutable_events() = EventsBuilder()
                            .Alloc(0x1000, 100, 1)
                            .Alloc(0x2000, 5000, 1)
                            .Alloc(0x3000, 3000, 1)
                            .Alloc(0x4000, 100000, 1)
                            .Free(0x2000)
                            .Build(1);
  state.Apply(m);
  Expected live, all;
  for (double s : {100.0, 3000.0, 100000.0}) live.Add(s);
  for (double s : {100.0, 5000.0, 3000.0, 100000.0}) all.Add(s);
  SiteStats a = state.site(0);
  EXPECT_EQ(Bytes(a.live_bytes_fp), static_cast<uint64_t>(std::llround(live.bytes)));
  EXPECT_EQ(Count(a.live_count_fp), static_cast<uint64_t>(std::llround(live.count)));
  EXPECT_EQ(Bytes(a.allocated_bytes_fp), static_cast<uint64_t>(std::llround(all.bytes)));
  EXPECT_EQ(Count(a.allocated_count_fp), static_cast<uint64_t>(std::llround(all.count)));
  EXPECT_EQ(a.live_samples, 3u);
  EXPECT_DOUBLE_EQ(a.live_variance, live.variance);

  // The report's 95% interval: estimate +- 1.96 sd.
  std::vector<SymbolizedFrame> frame(1);
  report::Report r = BuildReport(
      state, {}, [&](uint64_t) -> const auto& { return frame; });
  ASSERT_EQ(r.sites_size(), 1);
  const double half = 1.96 * std::sqrt(live.variance);
  EXPECT_EQ(r.sites(0).live_bytes_ci_low(), static_cast<uint64_t>(std::llround(live.bytes - half)));
  EXPECT_EQ(r.sites(0).live_bytes_ci_high(),
            static_cast<uint64_t>(std::llround(live.bytes + half)));
  EXPECT_EQ(r.sampling_interval_bytes(), 4096u);
}

TEST(ProcessState, SampledFreeSubtractsExactlyWhatItsAllocationAdded) {
  ProcessState state;
  wire::Message m = HelloMessage(1, "/bin/x", 4096);
  AddStack(&m, 1, {0xa1});
  state.Apply(m);
  for (uint64_t i = 0; i < 10000; ++i) state.Allocate(0x1000 + 16 * i, 1 + i * 37 % 9000, 0, 1);
  for (uint64_t i = 0; i < 10000; ++i) state.Free(0x1000 + 16 * i);
  SiteStats a = state.site(0);
  EXPECT_EQ(a.live_bytes_fp, 0u);
  EXPECT_EQ(a.live_count_fp, 0u);
  EXPECT_EQ(a.live_variance, 0.0);
  EXPECT_EQ(state.totals().live_bytes_fp, 0u);
}

// Sampled, the allocations between a sample and its free are not seen: an
// allocation followed by its free says nothing about "temporary".
TEST(ProcessState, SampledModeCountsNoTemporaries) {
  for (const uint64_t interval : {uint64_t{1}, uint64_t{4096}}) {
    ProcessState state;
    wire::Message m = HelloMessage(1, "/bin/x", interval);
    AddStack(&m, 1, {0xa1});
    state.Apply(m);
    for (uint64_t i = 0; i < 100; ++i) {
      state.Allocate(0x1000, 64, 0, 1);
      state.Free(0x1000);
    }
    EXPECT_EQ(Count(state.site(0).temporary_count_fp), interval == 1 ? 100u : 0u) << interval;
  }
}

TEST(ProcessState, SampledIntervalLowBoundClampsAtZero) {
  ProcessState state;
  wire::Message m = HelloMessage(1, "/bin/x", 4096);
  AddStack(&m, 1, {0xa1});
  *m.mutable_events() = EventsBuilder().Alloc(0x1000, 8, 1).Build(1);
  state.Apply(m);
  std::vector<SymbolizedFrame> frame(1);
  report::Report r = BuildReport(
      state, {}, [&](uint64_t) -> const auto& { return frame; });
  // One sample of 8 bytes: sd ~ estimate, so estimate - 1.96 sd < 0.
  EXPECT_EQ(r.sites(0).live_bytes_ci_low(), 0u);
}

// A forked child seeded from its parent's state at the marker: inherited
// blocks are live but not the child's allocations; freeing or replacing one
// takes it out of the inherited figures too.
TEST(ForkedChild, InheritedBlocksAreLiveButNotAllocatedByTheChild) {
  ProcessState parent;
  wire::Message p = HelloMessage(7, "/bin/prog");
  AddStack(&p, 1, {0xa1});
  *p.mutable_events() =
      EventsBuilder().Alloc(0x1000, 100, 1).Alloc(0x2000, 100, 1).Alloc(0x3000, 40, 1).Build(5);
  parent.Apply(p);
  ForkSnapshot snapshot = parent.SnapshotForFork();
  EXPECT_EQ(snapshot.parent_pid, 7u);
  EXPECT_EQ(snapshot.live.size(), 3u);

  ProcessState child;
  wire::Message c = HelloMessage(8, "/bin/prog");
  c.mutable_hello()->set_forked(true);
  c.mutable_hello()->set_fork_id(1);
  AddStack(&c, 2, {0xb1});
  *c.mutable_events() = EventsBuilder()
                            .Free(0x1000)          // inherited: matched
                            .Alloc(0x2000, 8, 2)   // replaces an inherited block
                            .Alloc(0x4000, 16, 1)  // the parent's stack id
                            .Build(6);
  child.Apply(c, &snapshot);
  EXPECT_EQ(child.inheritance(), Inheritance::kInherited);
  const ProcessTotals& t = child.totals();
  EXPECT_EQ(Count(t.inherited_count_fp), 3u);
  EXPECT_EQ(Bytes(t.inherited_bytes_fp), 240u);
  EXPECT_EQ(Count(t.inherited_live_count_fp), 1u);  // 0x3000
  EXPECT_EQ(Bytes(t.inherited_live_bytes_fp), 40u);
  EXPECT_EQ(Count(t.allocated_count_fp), 2u);
  EXPECT_EQ(Bytes(t.allocated_bytes_fp), 24u);
  EXPECT_EQ(Bytes(t.live_bytes_fp), 64u);
  EXPECT_EQ(Bytes(t.peak_live_bytes_fp), 240u);
  EXPECT_EQ(t.unmatched_frees, 0u);
  EXPECT_EQ(t.replaced_allocations, 1u);
  EXPECT_EQ(child.allocation_seq(), 2u);
  ASSERT_EQ(child.site_count(), 2u);
  const SiteStats a = child.site(0);
  EXPECT_EQ(Bytes(a.live_bytes_fp), 56u);
  EXPECT_EQ(Count(a.allocated_count_fp), 1u);
  EXPECT_EQ(Count(a.inherited_live_count_fp), 1u);
  EXPECT_EQ(Bytes(a.inherited_live_bytes_fp), 40u);
  EXPECT_EQ(Bytes(a.at_peak_bytes_fp), 240u);
}

wire::MapEvent* AddMapEvent(wire::Message* m, wire::MapEvent::Kind kind, uint64_t address,
                            uint64_t length, uint32_t stack_id = 0, uint64_t new_address = 0) {
  wire::MapEvent* e = m->add_map_events();
  e->set_kind(kind);
  e->set_address(address);
  e->set_length(length);
  e->set_stack_id(stack_id);
  e->set_new_address(new_address);
  return e;
}

// Mappings are kept apart from the heap, by the sites of their stacks, and
// never weighted by sampling.
TEST(ProcessState, MapEventsGoToTheMappingsBySiteNotToTheHeap) {
  ProcessState state;
  wire::Message m = HelloMessage(7, "/bin/prog");
  m.mutable_hello()->set_sampling_interval_bytes(524288);
  AddStack(&m, 1, {0xa1});
  AddStack(&m, 2, {0xb1});
  AddMapEvent(&m, wire::MapEvent::MAP, 0x100000, 1 << 20, 1);
  AddMapEvent(&m, wire::MapEvent::MAP, 0x300000, 1 << 20, 2);
  AddMapEvent(&m, wire::MapEvent::UNMAP, 0x380000, 1 << 19);
  AddMapEvent(&m, wire::MapEvent::REMAP_BEGIN, 0x100000, 1 << 20);
  AddMapEvent(&m, wire::MapEvent::REMAP_END, 0x100000, 4 << 20, 0, 0x900000);
  state.Apply(m);
  EXPECT_EQ(Bytes(state.totals().live_bytes_fp), 0u);
  const AnonMappings& maps = state.mappings();
  EXPECT_EQ(maps.live_bytes(), (4u << 20) + (1u << 19));
  EXPECT_EQ(maps.live_mappings(), 2u);
  ASSERT_EQ(maps.sites().size(), 2u);
  EXPECT_EQ(maps.sites()[0].live_bytes, 4u << 20);
  EXPECT_EQ(maps.sites()[0].mapped_bytes, 4u << 20);
  EXPECT_EQ(maps.sites()[1].live_bytes, 1u << 19);

  // A forked child starts with them, and unmaps one.
  ForkSnapshot snapshot = state.SnapshotForFork();
  ProcessState child;
  wire::Message c = HelloMessage(8, "/bin/prog");
  c.mutable_hello()->set_forked(true);
  c.mutable_hello()->set_fork_id(1);
  AddMapEvent(&c, wire::MapEvent::UNMAP, 0x900000, 4 << 20);
  child.Apply(c, &snapshot);
  EXPECT_EQ(child.mappings().live_bytes(), 1u << 19);
  EXPECT_EQ(child.mappings().sites()[1].inherited_live_bytes, 1u << 19);
  EXPECT_EQ(child.mappings().sites()[1].mappings, 0u);  // the parent's call
}

TEST(ForkedChild, WithoutASnapshotParentStackIdsGoToAnUnknownSite) {
  ProcessState child;
  wire::Message c = HelloMessage(8, "/bin/prog");
  c.mutable_hello()->set_forked(true);
  c.mutable_hello()->set_fork_id(1);
  *c.mutable_events() = EventsBuilder().Free(0x1000).Alloc(0x4000, 16, 5).Build(6);
  child.Apply(c, nullptr);
  EXPECT_EQ(child.inheritance(), Inheritance::kUnavailable);
  EXPECT_EQ(child.totals().unmatched_frees, 1u);
  ASSERT_EQ(child.site_count(), 1u);
  EXPECT_TRUE(child.site_pcs(0).empty());
  EXPECT_EQ(Bytes(child.site(0).live_bytes_fp), 16u);
}

}  // namespace
}  // namespace leakscope::collector
