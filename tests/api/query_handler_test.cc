// QueryHandler: marks, what is live since a mark, and the reply's framing,
// on a hand-written event sequence with exact expected figures.
#include "query_handler.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "wire_test_encoder.h"

namespace leakscope::collector {
namespace {

using testing::AddStack;
using testing::EventsBuilder;
using testing::HelloMessage;

wire::Query Query(wire::Query::Kind kind, uint64_t mark = 0) {
  wire::Query q;
  q.set_id(42);
  q.set_kind(kind);
  q.set_mark(mark);
  return q;
}

// Site A (stack 1) and site B (stack 2); no modules, so frames are addresses.
class Queries : public ::testing::Test {
 protected:
  void SetUp() override {
    wire::Message m = HelloMessage(7, "/bin/prog");
    AddStack(&m, 1, {0xa1});
    AddStack(&m, 2, {0xb1});
    *m.mutable_events() = EventsBuilder()
                              .Alloc(0x1000, 100, 1)  // seq 1
                              .Alloc(0x2000, 50, 2)   // seq 2
                              .Build(1);
    state_.Apply(m);
  }
  void Then(EventsBuilder e) {
    wire::Message m;
    *m.mutable_events() = e.Build(2);
    state_.Apply(m);
  }
  ProcessState state_;
  QueryHandler handler_;
};

TEST_F(Queries, MarkIsTheLastAllocationNumber) {
  wire::Reply r = handler_.Answer(state_, Query(wire::Query::MARK));
  EXPECT_EQ(r.id(), 42u);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.mark(), 2u);
}

TEST_F(Queries, LiveSinceCountsOnlyLaterAllocationsStillLive) {
  Then(EventsBuilder()
           .Alloc(0x3000, 30, 1)  // seq 3, stays
           .Alloc(0x4000, 7, 2)   // seq 4, freed below
           .Alloc(0x5000, 11, 2)  // seq 5, stays
           .Free(0x4000)
           .Free(0x1000));  // before the mark: irrelevant
  wire::Reply r = handler_.Answer(state_, Query(wire::Query::LIVE_SINCE, 2));
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.estimated());
  EXPECT_EQ(r.mark(), 5u);
  EXPECT_EQ(r.live_bytes(), 41u);
  EXPECT_EQ(r.live_allocations(), 2u);
  ASSERT_EQ(r.sites_size(), 2);
  EXPECT_EQ(r.sites(0).bytes(), 30u);  // largest first
  EXPECT_EQ(r.sites(0).allocations(), 1u);
  EXPECT_EQ(r.sites(1).bytes(), 11u);
}

TEST_F(Queries, ReallocatedAddressCountsAsNew) {
  Then(EventsBuilder().Free(0x1000).Alloc(0x1000, 64, 1));  // seq 3 at an old address
  wire::Reply r = handler_.Answer(state_, Query(wire::Query::LIVE_SINCE, 2));
  EXPECT_EQ(r.live_bytes(), 64u);
  EXPECT_EQ(r.live_allocations(), 1u);
}

TEST_F(Queries, NothingSinceTheLatestMark) {
  wire::Reply r = handler_.Answer(state_, Query(wire::Query::LIVE_SINCE, 2));
  EXPECT_EQ(r.live_bytes(), 0u);
  EXPECT_EQ(r.sites_size(), 0);
}

TEST_F(Queries, MaxSitesLimitsTheList) {
  Then(EventsBuilder().Alloc(0x3000, 30, 1).Alloc(0x5000, 11, 2));
  wire::Query q = Query(wire::Query::LIVE_SINCE, 0);
  q.set_max_sites(1);
  wire::Reply r = handler_.Answer(state_, q);
  EXPECT_EQ(r.live_bytes(), 191u);  // 100 + 50 + 30 + 11
  ASSERT_EQ(r.sites_size(), 1);
  EXPECT_EQ(r.sites(0).bytes(), 130u);  // site A: 100 + 30
  EXPECT_EQ(r.sites(0).allocations(), 2u);
}

TEST_F(Queries, UnknownKindIsAnError) {
  wire::Reply r = handler_.Answer(state_, Query(wire::Query::UNKNOWN));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "unknown query kind 0");
}

TEST(SampledQueries, FiguresAreEstimates) {
  ProcessState state;
  wire::Message m = HelloMessage(7, "/bin/prog");
  m.mutable_hello()->set_sampling_interval_bytes(1024);
  AddStack(&m, 1, {0xa1});
  *m.mutable_events() = EventsBuilder().Alloc(0x1000, 4096, 1).Build(1);  // >= interval: itself
  state.Apply(m);
  QueryHandler handler;
  wire::Reply r = handler.Answer(state, Query(wire::Query::LIVE_SINCE, 0));
  EXPECT_TRUE(r.estimated());
  EXPECT_EQ(r.live_bytes(), 4096u);
  EXPECT_EQ(r.live_allocations(), 1u);
}

TEST_F(Queries, AnswerOnWritesSizeThenReply) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
  handler_.AnswerOn(fds[0], state_, Query(wire::Query::MARK));
  char buf[256];
  const ssize_t n = read(fds[1], buf, sizeof buf);
  ASSERT_GE(n, 4);
  const uint32_t size = uint8_t(buf[0]) | uint8_t(buf[1]) << 8 | uint8_t(buf[2]) << 16 |
                        uint32_t(uint8_t(buf[3])) << 24;
  EXPECT_EQ(size + 4, uint32_t(n));
  wire::Reply r;
  ASSERT_TRUE(r.ParseFromArray(buf + 4, int(size)));
  EXPECT_EQ(r.id(), 42u);
  EXPECT_EQ(r.mark(), 2u);
  close(fds[0]);
  close(fds[1]);
}

}  // namespace
}  // namespace leakscope::collector
