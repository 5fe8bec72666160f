// The shim's hand-written Query encoder and Reply decoder against the
// generated protobuf classes.
#include "query_wire.h"

#include <gtest/gtest.h>

#include <string>

#include "wire.pb.h"

namespace leakscope::preload {
namespace {

TEST(QueryWire, EncodesEveryField) {
  const char* const allow[] = {"Cache::Put", "std::locale", nullptr};
  const char* const stop[] = {"testing::Test::Run", nullptr};
  QueryInfo q;
  q.id = 9;
  q.kind = QueryKind::kLiveSince;
  q.mark = 1ull << 40;
  q.label = "before-teardown";
  q.send_report = true;
  q.max_sites = 5;
  q.allow_functions = allow;
  q.stop_functions = stop;
  ByteBuffer msg;
  EncodeQuery(q, &msg);
  wire::Message m;
  ASSERT_TRUE(m.ParseFromArray(msg.data(), int(msg.size())));
  ASSERT_TRUE(m.has_query());
  EXPECT_EQ(m.query().id(), 9u);
  EXPECT_EQ(m.query().kind(), wire::Query::LIVE_SINCE);
  EXPECT_EQ(m.query().mark(), 1ull << 40);
  EXPECT_EQ(m.query().path(), "");  // never sent: the collector chooses where it writes
  EXPECT_EQ(m.query().label(), "before-teardown");
  EXPECT_TRUE(m.query().send_report());
  EXPECT_EQ(m.query().max_sites(), 5u);
  ASSERT_EQ(m.query().allow_functions_size(), 2);
  EXPECT_EQ(m.query().allow_functions(1), "std::locale");
  ASSERT_EQ(m.query().stop_functions_size(), 1);
  EXPECT_EQ(m.query().stop_functions(0), "testing::Test::Run");
}

TEST(QueryWire, DecodesEveryField) {
  wire::Reply r;
  r.set_id(9);
  r.set_ok(true);
  r.set_mark(77);
  r.set_live_bytes(4096);
  r.set_live_allocations(3);
  r.set_estimated(true);
  r.set_allowed_bytes(12);
  r.set_error("none");
  wire::ReplySite* s = r.add_sites();
  s->set_function("Leak()");
  s->set_file("/src/a.cc");
  s->set_line(12);
  s->set_bytes(4000);
  s->set_allocations(2);
  r.add_sites()->set_function(std::string(1000, 'f'));  // truncated, not overflowing
  const std::string bytes = r.SerializeAsString();
  leakscope_live live = {};
  ReplyInfo out;
  out.live = &live;
  ASSERT_TRUE(DecodeReply(bytes.data(), bytes.size(), &out));
  EXPECT_EQ(out.id, 9u);
  EXPECT_TRUE(out.ok);
  EXPECT_EQ(out.mark, 77u);
  EXPECT_EQ(live.bytes, 4096u);
  EXPECT_EQ(live.allocations, 3u);
  EXPECT_EQ(live.estimated, 1);
  EXPECT_EQ(live.allowed_bytes, 12u);
  EXPECT_STREQ(live.error, "none");
  ASSERT_EQ(live.site_count, 2u);
  EXPECT_STREQ(live.sites[0].function, "Leak()");
  EXPECT_STREQ(live.sites[0].file, "/src/a.cc");
  EXPECT_EQ(live.sites[0].line, 12u);
  EXPECT_EQ(live.sites[0].bytes, 4000u);
  EXPECT_EQ(live.sites[0].allocations, 2u);
  EXPECT_EQ(std::string(live.sites[1].function), std::string(LEAKSCOPE_TEXT_SIZE - 1, 'f'));
}

TEST(QueryWire, DecodesASnapshotReply) {
  wire::Reply r;
  r.set_id(3);
  r.set_ok(false);
  r.set_error("disk full");
  r.set_path("/var/lib/leakscope/srv.12.snapshot-1.lsr");
  r.set_report(std::string("LSKR\0\1", 6));
  const std::string bytes = r.SerializeAsString();
  leakscope_snapshot_info info = {};
  ReplyInfo out;
  out.snapshot = &info;
  ASSERT_TRUE(DecodeReply(bytes.data(), bytes.size(), &out));
  EXPECT_STREQ(info.path, "/var/lib/leakscope/srv.12.snapshot-1.lsr");
  EXPECT_STREQ(info.error, "disk full");
  EXPECT_EQ(std::string(out.report, out.report_size), std::string("LSKR\0\1", 6));
  // A path too long for the field is left out, never cut.
  r.set_path(std::string(LEAKSCOPE_PATH_SIZE, 'p'));
  const std::string longer = r.SerializeAsString();
  ASSERT_TRUE(DecodeReply(longer.data(), longer.size(), &out));
  EXPECT_STREQ(info.path, "");
}

TEST(QueryWire, MoreSitesThanFitAreDropped) {
  wire::Reply r;
  for (int i = 0; i < LEAKSCOPE_MAX_SITES + 3; ++i) r.add_sites()->set_bytes(uint64_t(i));
  const std::string bytes = r.SerializeAsString();
  leakscope_live live = {};
  ReplyInfo out;
  out.live = &live;
  ASSERT_TRUE(DecodeReply(bytes.data(), bytes.size(), &out));
  EXPECT_EQ(live.site_count, uint32_t(LEAKSCOPE_MAX_SITES));
  EXPECT_EQ(live.sites[LEAKSCOPE_MAX_SITES - 1].bytes, uint64_t(LEAKSCOPE_MAX_SITES - 1));
}

TEST(QueryWire, TruncatedReplyIsMalformed) {
  wire::Reply r;
  r.set_error("a long enough error text");
  const std::string bytes = r.SerializeAsString();
  ReplyInfo out;
  EXPECT_FALSE(DecodeReply(bytes.data(), bytes.size() - 3, &out));
}

}  // namespace
}  // namespace leakscope::preload
