// The shim's hand-written encoder must produce exactly what the generated
// protobuf classes (used by the collector) decode.
#include "wire_writer.h"

#include <gtest/gtest.h>
#include <lz4.h>

#include <cstring>
#include <string>

#include "framing.h"
#include "wire.pb.h"

namespace leakscope::preload {
namespace {

wire::Message DecodeFrame(const ByteBuffer& frame) {
  uint32_t compressed, raw;
  std::memcpy(&compressed, frame.data(), 4);
  std::memcpy(&raw, frame.data() + 4, 4);
  EXPECT_EQ(compressed + wire::kFrameHeaderSize, frame.size());
  std::string out(raw, '\0');
  EXPECT_EQ(LZ4_decompress_safe(frame.data() + 8, out.data(), int(compressed), int(raw)), int(raw));
  wire::Message m;
  EXPECT_TRUE(m.ParseFromString(out));
  return m;
}

TEST(WireWriter, HelloAndGoodbyeDecode) {
  ByteBuffer msg, frame;
  const char cmdline[] = "./server\0--port\0\0x";  // the empty argument must survive
  HelloInfo h;
  h.pid = 4242;
  h.ppid = 1;
  h.exe = "/usr/bin/server";
  h.cmdline = cmdline;
  h.cmdline_size = sizeof cmdline - 1;
  h.start_time_unix_ns = 1700000000123456789ull;
  h.sampling_interval_bytes = 524288;
  h.forked = true;
  h.fork_time_unix_ns = 1700000000999999999ull;
  h.parent_pid = 4000;
  h.parent_start_time_unix_ns = 1699999999000000001ull;
  h.fork_id = 3;
  h.fork_markers_sent = 2;
  h.flush_interval_ms = 40;
  h.labels = "team=pay,tier=web";
  EncodeHello(h, &msg);
  EncodeForkMarker(9, &msg);
  EncodeExitMarker("return from main", &msg);
  EncodeGoodbye(true, -3, "exit", &msg);
  ASSERT_TRUE(EncodeFrame(msg, &frame));
  wire::Message m = DecodeFrame(frame);
  EXPECT_EQ(m.hello().protocol_version(), wire::kProtocolVersion);
  EXPECT_EQ(m.hello().pid(), 4242u);
  EXPECT_EQ(m.hello().ppid(), 1u);
  EXPECT_EQ(m.hello().exe(), "/usr/bin/server");
  ASSERT_EQ(m.hello().argv_size(), 4);
  EXPECT_EQ(m.hello().argv(0), "./server");
  EXPECT_EQ(m.hello().argv(1), "--port");
  EXPECT_EQ(m.hello().argv(2), "");
  EXPECT_EQ(m.hello().argv(3), "x");
  EXPECT_EQ(m.hello().start_time_unix_ns(), 1700000000123456789ull);
  EXPECT_EQ(m.hello().sampling_interval_bytes(), 524288u);
  EXPECT_TRUE(m.hello().forked());
  EXPECT_EQ(m.hello().fork_time_unix_ns(), 1700000000999999999ull);
  EXPECT_EQ(m.hello().parent_pid(), 4000u);
  EXPECT_EQ(m.hello().parent_start_time_unix_ns(), 1699999999000000001ull);
  EXPECT_EQ(m.hello().fork_id(), 3u);
  EXPECT_EQ(m.hello().fork_markers_sent(), 2u);
  EXPECT_EQ(m.hello().flush_interval_ms(), 40u);
  EXPECT_EQ(m.hello().labels(), "team=pay,tier=web");
  EXPECT_EQ(m.fork_marker().fork_id(), 9u);
  EXPECT_TRUE(m.has_exit_marker());
  EXPECT_EQ(m.exit_marker().how(), "return from main");
  EXPECT_TRUE(m.goodbye().has_exit_status());
  EXPECT_EQ(m.goodbye().exit_status(), -3);
  EXPECT_EQ(m.goodbye().how(), "exit");
}

TEST(WireWriter, StacksEventsAndStatsDecode) {
  ByteBuffer msg, frame;
  const uint64_t pcs[3] = {0x55555555a123, 0x7fffe0001000, 1};
  EncodeStack(7, pcs, 3, &msg);
  EncodeStack(8, pcs, 0, &msg);
  EventColumns columns;
  columns.AddAlloc(0x7f0000001000, 1000, 7);
  columns.AddAlloc(0x7f0000000ff0, 0, 8);  // malloc(0) is an allocation, not a free
  columns.AddFree(0x7f0000001000);
  columns.AddFree(0x10);
  EXPECT_EQ(columns.count(), 4u);
  columns.EncodeAndClear(123456, &msg);
  EXPECT_EQ(columns.count(), 0u);
  StatsInfo s;
  s.dropped_events = 5;
  s.rss_bytes = 1 << 20;
  s.reentrant_events = 2;
  s.threads_seen = 3;
  s.time_ns = 99;
  EncodeStats(s, &msg);
  ASSERT_TRUE(EncodeFrame(msg, &frame));
  wire::Message m = DecodeFrame(frame);
  ASSERT_EQ(m.stacks_size(), 2);
  EXPECT_EQ(m.stacks(0).id(), 7u);
  ASSERT_EQ(m.stacks(0).pcs_size(), 3);
  EXPECT_EQ(m.stacks(0).pcs(0), 0x55555555a123u);
  EXPECT_EQ(m.stacks(0).pcs(1), 0x7fffe0001000u);
  EXPECT_EQ(m.stacks(0).pcs(2), 1u);
  EXPECT_EQ(m.stacks(1).id(), 8u);
  EXPECT_EQ(m.stacks(1).pcs_size(), 0);
  const wire::Events& e = m.events();
  ASSERT_EQ(e.size_plus_one_size(), 4);
  EXPECT_EQ(e.size_plus_one(0), 1001u);
  EXPECT_EQ(e.size_plus_one(1), 1u);
  EXPECT_EQ(e.size_plus_one(2), 0u);
  EXPECT_EQ(e.size_plus_one(3), 0u);
  ASSERT_EQ(e.address_delta_size(), 4);
  EXPECT_EQ(e.address_delta(0), 0x7f0000001000);
  EXPECT_EQ(e.address_delta(1), -0x10);
  EXPECT_EQ(e.address_delta(2), 0x10);
  EXPECT_EQ(e.address_delta(3), 0x10 - 0x7f0000001000);
  ASSERT_EQ(e.stack_id_size(), 2);
  EXPECT_EQ(e.stack_id(0), 7u);
  EXPECT_EQ(e.stack_id(1), 8u);
  EXPECT_EQ(e.time_ns(), 123456u);
  EXPECT_EQ(m.stats().dropped_events(), 5u);
  EXPECT_EQ(m.stats().rss_bytes(), 1u << 20);
  EXPECT_EQ(m.stats().reentrant_events(), 2u);
  EXPECT_EQ(m.stats().threads_seen(), 3u);
  EXPECT_EQ(m.stats().time_ns(), 99u);
}

// Out of memory (a process at its RLIMIT_AS): a buffer that could not grow
// says so, and so does a message it was put into, so the drain thread drops
// the message instead of sending a frame the collector cannot parse.
TEST(WireWriter, MapEventsDecode) {
  ByteBuffer msg, frame;
  EncodeMapEvent(1, 0x7f0000000000, 1 << 20, 5, 0, false, &msg);
  EncodeMapEvent(3, 0x7f0000000000, 1 << 20, 0, 0, true, &msg);
  EncodeMapEvent(4, 0x7f0000000000, 4 << 20, 0, 0x7e0000000000, false, &msg);
  ASSERT_TRUE(EncodeFrame(msg, &frame));
  wire::Message m = DecodeFrame(frame);
  ASSERT_EQ(m.map_events_size(), 3);
  EXPECT_EQ(m.map_events(0).kind(), wire::MapEvent::MAP);
  EXPECT_EQ(m.map_events(0).address(), 0x7f0000000000u);
  EXPECT_EQ(m.map_events(0).length(), 1u << 20);
  EXPECT_EQ(m.map_events(0).stack_id(), 5u);
  EXPECT_EQ(m.map_events(1).kind(), wire::MapEvent::REMAP_BEGIN);
  EXPECT_TRUE(m.map_events(1).keep_old());
  EXPECT_EQ(m.map_events(2).kind(), wire::MapEvent::REMAP_END);
  EXPECT_EQ(m.map_events(2).new_address(), 0x7e0000000000u);
  EXPECT_EQ(m.map_events(2).length(), 4u << 20);
  EXPECT_FALSE(m.map_events(2).keep_old());
}

TEST(ByteBuffer, AWriteThatFindsNoMemoryMarksTheBufferAndWhatItGoesInto) {
  ByteBuffer small;
  small.PutVarintField(1, 42);  // inline storage: no memory needed
  EXPECT_FALSE(small.failed());
  ByteBuffer body;
  EXPECT_FALSE(body.Reserve(size_t{1} << 62));  // no allocator gives that much
  EXPECT_TRUE(body.failed());
  EXPECT_EQ(body.size(), 0u);  // unchanged
  ByteBuffer msg;
  msg.PutMessageField(3, small);
  EXPECT_FALSE(msg.failed());
  msg.PutMessageField(4, body);
  EXPECT_TRUE(msg.failed());
  msg.Clear();
  EXPECT_FALSE(msg.failed());
}

TEST(ByteBuffer, GrowsPastItsInlineStorageKeepingTheBytes) {
  ByteBuffer b;
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    const char c = static_cast<char>('a' + i % 26);
    b.PutBytes(&c, 1);
    expected += c;
  }
  EXPECT_FALSE(b.failed());
  EXPECT_EQ(std::string(b.data(), b.size()), expected);
}

TEST(WireWriter, StreamHeaderIsMagicAndVersion) {
  ByteBuffer out;
  EncodeStreamHeader(&out);
  ASSERT_EQ(out.size(), wire::kStreamHeaderSize);
  EXPECT_EQ(std::memcmp(out.data(), "LSKW\1\0\0\0", 8), 0);
}

}  // namespace
}  // namespace leakscope::preload
