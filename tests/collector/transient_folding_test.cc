// Folding transient allocations (preload/transient_folder.h) must change
// nothing the collector derives: random event streams, each batch sent once
// folded and once as it came, through the shim's encoder and the collector's
// decoder, give identical totals, peak, per-site figures (at the peak
// included) and live tables.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "process_state.h"
#include "stream_decoder.h"
#include "transient_folder.h"
#include "wire_test_encoder.h"
#include "wire_writer.h"

namespace leakscope::collector {
namespace {

using preload::EventColumns;
using preload::TransientFolder;

// Stacks 1 and 4 have the same pcs: one site.
wire::Message Hello() {
  wire::Message m = testing::HelloMessage(42, "/bin/churn");
  testing::AddStack(&m, 1, {0x1000, 0x2000});
  testing::AddStack(&m, 2, {0x1100});
  testing::AddStack(&m, 3, {0x1200, 0x2000, 0x3000});
  testing::AddStack(&m, 4, {0x1000, 0x2000});
  return m;
}

// One collector fed through the real decoder.
struct Collector {
  ProcessState state;
  StreamDecoder decoder{[this](const wire::Message& m) { state.Apply(m); }};
  Collector() { Feed(testing::StreamHeader() + testing::Frame(Hello())); }
  void Feed(const std::string& bytes) {
    ASSERT_TRUE(decoder.Feed(bytes.data(), bytes.size())) << decoder.error();
  }
  // The columns as the shim would send them.
  void Send(EventColumns* columns, uint64_t time_ns) {
    preload::ByteBuffer msg;
    columns->EncodeAndClear(time_ns, &msg);
    ASSERT_FALSE(msg.failed());
    wire::Message m;
    ASSERT_TRUE(m.ParseFromArray(msg.data(), static_cast<int>(msg.size())));
    Feed(testing::Frame(m));
  }
};

struct Event {
  bool alloc;
  uint64_t address, size;
  uint32_t stack;
};

// A random stream over a small pool of addresses: mostly allocations of free
// slots and frees of live ones, sometimes a free of an address never
// allocated, and with `lost_frees` an allocation over a live address (its
// free was lost).
std::vector<Event> RandomStream(std::mt19937_64& rng, size_t n, int slots, bool lost_frees) {
  std::vector<bool> live(slots);
  std::vector<Event> out;
  for (size_t i = 0; i < n; ++i) {
    const int slot = static_cast<int>(rng() % slots);
    const uint64_t address = 0x10000 + 0x40 * uint64_t(slot);
    const int dice = static_cast<int>(rng() % 100);
    if (dice < 2) {
      out.push_back({false, 0x900000 + 16 * (rng() % 8), 0, 0});  // never allocated
    } else if (!live[slot] || (lost_frees && dice < 4)) {
      out.push_back({true, address, 1 + rng() % 600, uint32_t(1 + rng() % 4)});
      live[slot] = true;
    } else {
      out.push_back({false, address, 0, 0});
      live[slot] = false;
    }
  }
  return out;
}

void AddToBatch(TransientFolder* batch, const Event& e) {
  if (e.alloc)
    batch->AddAlloc(e.address, e.size, e.stack);
  else
    batch->AddFree(e.address);
}

// Sends the stream in messages of random batch sizes, folded and not.
void SendBoth(const std::vector<Event>& stream, std::mt19937_64& rng, TransientFolder::Mode mode,
              Collector* folded, Collector* plain, size_t* events_sent) {
  TransientFolder batch;
  ASSERT_TRUE(batch.Prepare());
  EventColumns folded_columns, plain_columns;
  size_t i = 0;
  uint64_t time_ns = 1000;
  while (i < stream.size()) {
    for (int batches = 1 + int(rng() % 3); batches > 0 && i < stream.size(); --batches) {
      const size_t n = std::min(stream.size() - i, size_t(1 + rng() % 300));
      for (size_t k = 0; k < n; ++k) AddToBatch(&batch, stream[i + k]);
      ASSERT_TRUE(batch.FlushInto(&folded_columns, mode));
      for (size_t k = 0; k < n; ++k) AddToBatch(&batch, stream[i + k]);
      ASSERT_TRUE(batch.FlushInto(&plain_columns, TransientFolder::Mode::kSendAll));
      i += n;
    }
    ASSERT_EQ(folded_columns.count(), plain_columns.count());
    *events_sent += folded_columns.sent();
    folded->Send(&folded_columns, time_ns);
    plain->Send(&plain_columns, time_ns);
    time_ns += 1000;
  }
}

std::map<uint64_t, std::tuple<uint64_t, uint32_t, uint64_t>> LiveTable(const ProcessState& s) {
  std::map<uint64_t, std::tuple<uint64_t, uint32_t, uint64_t>> out;
  s.live_table().ForEach([&](uint64_t address, const LiveAllocation& a) {
    out[address] = {a.size, a.site, a.seq};
  });
  return out;
}

void ExpectSame(const ProcessState& a, const ProcessState& b) {
  const ProcessTotals &ta = a.totals(), &tb = b.totals();
  EXPECT_EQ(ta.allocated_count_fp, tb.allocated_count_fp);
  EXPECT_EQ(ta.freed_count_fp, tb.freed_count_fp);
  EXPECT_EQ(ta.allocated_bytes_fp, tb.allocated_bytes_fp);
  EXPECT_EQ(ta.live_bytes_fp, tb.live_bytes_fp);
  EXPECT_EQ(ta.live_count_fp, tb.live_count_fp);
  EXPECT_EQ(ta.peak_live_bytes_fp, tb.peak_live_bytes_fp);
  EXPECT_EQ(ta.peak_time_ns, tb.peak_time_ns);
  EXPECT_EQ(ta.unmatched_frees, tb.unmatched_frees);
  EXPECT_EQ(ta.replaced_allocations, tb.replaced_allocations);
  EXPECT_EQ(ta.events, tb.events);
  EXPECT_EQ(a.allocation_seq(), b.allocation_seq());
  ASSERT_EQ(a.site_count(), b.site_count());
  for (size_t i = 0; i < a.site_count(); ++i) {
    const SiteStats sa = a.site(i), sb = b.site(i);
    EXPECT_EQ(sa.live_bytes_fp, sb.live_bytes_fp) << "site " << i;
    EXPECT_EQ(sa.live_count_fp, sb.live_count_fp) << "site " << i;
    EXPECT_EQ(sa.allocated_bytes_fp, sb.allocated_bytes_fp) << "site " << i;
    EXPECT_EQ(sa.allocated_count_fp, sb.allocated_count_fp) << "site " << i;
    EXPECT_EQ(sa.temporary_count_fp, sb.temporary_count_fp) << "site " << i;
    EXPECT_EQ(sa.live_samples, sb.live_samples) << "site " << i;
    EXPECT_EQ(sa.at_peak_bytes_fp, sb.at_peak_bytes_fp) << "site " << i;
  }
}

// Only the sequence numbers of live allocations may differ: a folded
// allocation is numbered at the end of its message. Sizes and sites may not.
void ExpectSameLiveBlocks(const ProcessState& a, const ProcessState& b) {
  auto la = LiveTable(a), lb = LiveTable(b);
  ASSERT_EQ(la.size(), lb.size());
  for (auto ia = la.begin(), ib = lb.begin(); ia != la.end(); ++ia, ++ib) {
    EXPECT_EQ(ia->first, ib->first);
    EXPECT_EQ(std::get<0>(ia->second), std::get<0>(ib->second));
    EXPECT_EQ(std::get<1>(ia->second), std::get<1>(ib->second));
  }
}

// Folded streams are compared with the same stream sent whole, for 200 seeds.
void ExpectRandomStreamsAgree(TransientFolder::Mode mode, bool lost_frees) {
  size_t total_events = 0, total_sent = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    const int slots = 1 + int(rng() % 48);
    const std::vector<Event> stream = RandomStream(rng, 200 + rng() % 2000, slots, lost_frees);
    Collector folded, plain;
    SendBoth(stream, rng, mode, &folded, &plain, &total_sent);
    total_events += stream.size();
    ExpectSame(folded.state, plain.state);
    ExpectSameLiveBlocks(folded.state, plain.state);
    if (::testing::Test::HasFailure()) return;
  }
  // The streams did fold: most of their events never went out as events.
  EXPECT_LT(total_sent * 2, total_events);
}

TEST(TransientFolding, RandomStreamsGiveTheSameFiguresFoldedOrNot) {
  ExpectRandomStreamsAgree(TransientFolder::Mode::kFold, false);
}

// Once frees may have been lost, a folded allocation over a block the
// collector still holds must replace it, as its event would have.
TEST(TransientFolding, RandomStreamsWithLostFreesGiveTheSameFiguresFoldedOrNot) {
  ExpectRandomStreamsAgree(TransientFolder::Mode::kFoldAfterLoss, true);
}

// By hand. One pair: nothing is sent as an event; the message says "one
// allocation of 100 B at stack 1, freed by the next event"; adjustments:
// +100 B live after the allocation (the highest point), -100 at the end.
// After a lost event, three pairs at one address: the first also gets an
// adjustment before it, "replace what is live at 0x5000" (the batch's first
// event there); the highest point is still after the first allocation.
TEST(TransientFolding, APairBecomesASumAndItsAdjustments) {
  TransientFolder batch;
  ASSERT_TRUE(batch.Prepare());
  EventColumns columns;
  preload::ByteBuffer plain_msg;
  batch.AddAlloc(0x5000, 100, 1);
  batch.AddFree(0x5000);
  ASSERT_TRUE(batch.FlushInto(&columns, TransientFolder::Mode::kFold));
  columns.EncodeAndClear(7, &plain_msg);
  wire::Message plain;
  ASSERT_TRUE(plain.ParseFromArray(plain_msg.data(), static_cast<int>(plain_msg.size())));
  EXPECT_EQ(std::vector<uint64_t>(plain.events().adjust_address().begin(),
                                  plain.events().adjust_address().end()),
            (std::vector<uint64_t>{0, 0}));
  EXPECT_EQ(std::vector<int64_t>(plain.events().adjust_bytes().begin(),
                                 plain.events().adjust_bytes().end()),
            (std::vector<int64_t>{100, -100}));
  for (int i = 0; i < 3; ++i) {
    batch.AddAlloc(0x5000, 100, 1);
    batch.AddFree(0x5000);
  }
  ASSERT_TRUE(batch.FlushInto(&columns, TransientFolder::Mode::kFoldAfterLoss));
  EXPECT_EQ(columns.count(), 6u);
  EXPECT_EQ(columns.sent(), 0u);
  preload::ByteBuffer msg;
  columns.EncodeAndClear(7, &msg);
  wire::Message m;
  ASSERT_TRUE(m.ParseFromArray(msg.data(), static_cast<int>(msg.size())));
  const wire::Events& e = m.events();
  EXPECT_EQ(e.size_plus_one_size(), 0);
  ASSERT_EQ(e.transient_stack_id_size(), 1);
  EXPECT_EQ(e.transient_stack_id(0), 1u);
  EXPECT_EQ(e.transient_count(0), 3u);
  EXPECT_EQ(e.transient_bytes(0), 300u);
  EXPECT_EQ(e.transient_temporary(0), 3u);
  ASSERT_EQ(e.adjust_before_delta_size(), 3);
  EXPECT_EQ(std::vector<uint32_t>(e.adjust_before_delta().begin(), e.adjust_before_delta().end()),
            (std::vector<uint32_t>{0, 0, 0}));
  EXPECT_EQ(std::vector<uint32_t>(e.adjust_entries().begin(), e.adjust_entries().end()),
            (std::vector<uint32_t>{0, 1, 1}));
  EXPECT_EQ(std::vector<uint64_t>(e.adjust_address().begin(), e.adjust_address().end()),
            (std::vector<uint64_t>{0x5000, 0, 0}));
  EXPECT_EQ(std::vector<uint32_t>(e.adjust_stack_id().begin(), e.adjust_stack_id().end()),
            (std::vector<uint32_t>{1, 1}));
  EXPECT_EQ(std::vector<int64_t>(e.adjust_bytes().begin(), e.adjust_bytes().end()),
            (std::vector<int64_t>{100, -100}));
}

// After a lost event, a batch whose pairs are each at a new address would
// name every address: it goes out unfolded instead, with the same figures.
TEST(TransientFolding, ABatchOfNewAddressesAfterALostEventGoesOutUnfolded) {
  TransientFolder batch;
  ASSERT_TRUE(batch.Prepare());
  EventColumns folded_columns, plain_columns;
  for (auto* columns : {&folded_columns, &plain_columns}) {
    for (uint64_t i = 0; i < 100; ++i) {
      batch.AddAlloc(0x10000 + 64 * i, 10 + i, 2);
      batch.AddFree(0x10000 + 64 * i);
    }
    ASSERT_TRUE(batch.FlushInto(columns, columns == &folded_columns
                                             ? TransientFolder::Mode::kFoldAfterLoss
                                             : TransientFolder::Mode::kSendAll));
  }
  EXPECT_EQ(folded_columns.sent(), 200u);
  Collector folded, plain;
  folded.Send(&folded_columns, 9);
  plain.Send(&plain_columns, 9);
  ExpectSame(folded.state, plain.state);
  EXPECT_EQ(FromFixed(folded.state.totals().peak_live_bytes_fp, kByteFracBits), 109u);
}

// The peak of a churn loop sits between two sent events: a leak of 1000 B,
// then 50 pairs of 10 B with up to 3 live at once. Peak 1030 B, of which
// 30 B at the churn's site, with nothing but the leak sent as an event.
TEST(TransientFolding, APeakInsideFoldedEventsIsExactPerSite) {
  TransientFolder batch;
  ASSERT_TRUE(batch.Prepare());
  batch.AddAlloc(0x100, 1000, 2);
  for (int i = 0; i < 50; ++i) {
    batch.AddAlloc(0x1000 + 0x100 * uint64_t(i % 3), 10, 3);
    if (i >= 2) batch.AddFree(0x1000 + 0x100 * uint64_t((i - 2) % 3));
  }
  batch.AddFree(0x1000 + 0x100 * uint64_t(48 % 3));
  batch.AddFree(0x1000 + 0x100 * uint64_t(49 % 3));
  EventColumns columns;
  ASSERT_TRUE(batch.FlushInto(&columns, TransientFolder::Mode::kFold));
  EXPECT_EQ(columns.sent(), 1u);
  Collector c;
  c.Send(&columns, 5);
  const ProcessTotals& t = c.state.totals();
  EXPECT_EQ(FromFixed(t.peak_live_bytes_fp, kByteFracBits), 1030u);
  EXPECT_EQ(FromFixed(t.live_bytes_fp, kByteFracBits), 1000u);
  EXPECT_EQ(FromFixed(t.allocated_count_fp, kCountFracBits), 51u);
  EXPECT_EQ(FromFixed(t.freed_count_fp, kCountFracBits), 50u);
  EXPECT_EQ(t.events, 101u);
  ASSERT_EQ(c.state.site_count(), 3u);  // stacks 1 and 4 are site 0; 2 is site 1, 3 site 2
  EXPECT_EQ(FromFixed(c.state.site(1).at_peak_bytes_fp, kByteFracBits), 1000u);
  EXPECT_EQ(FromFixed(c.state.site(2).at_peak_bytes_fp, kByteFracBits), 30u);
  EXPECT_EQ(FromFixed(c.state.site(2).live_bytes_fp, kByteFracBits), 0u);
}

}  // namespace
}  // namespace leakscope::collector
