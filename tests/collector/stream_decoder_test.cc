// StreamDecoder: any split of a valid stream decodes to the same messages;
// each kind of bad stream fails with its own one-line reason and keeps what
// was decoded before.
#include "stream_decoder.h"

#include <gtest/gtest.h>

#include "wire_test_encoder.h"

namespace leakscope::collector {
namespace {

using testing::AddStack;
using testing::AppendU32;
using testing::EventsBuilder;
using testing::Frame;
using testing::HelloMessage;
using testing::StreamHeader;

struct Collected {
  std::vector<std::string> messages;  // serialized, for exact comparison
  StreamDecoder decoder{
      [this](const wire::Message& m) { messages.push_back(m.SerializeAsString()); }};
};

std::vector<wire::Message> ValidMessages() {
  wire::Message first = HelloMessage(42, "/usr/bin/app");
  wire::Module* mod = first.add_modules();
  mod->set_path("/usr/bin/app");
  mod->set_load_bias(0x400000);
  mod->add_exec_ranges(0x401000);
  mod->add_exec_ranges(0x402000);
  AddStack(&first, 1, {0x401010, 0x401020});
  EventsBuilder events;
  *first.mutable_events() = events.Alloc(0x1000, 16, 1).Alloc(0x2000, 32, 1).Free(0x1000).Build(7);
  wire::Message second;
  AddStack(&second, 2, {0x401030});
  *second.mutable_events() = events.Alloc(0x3000, 8, 2).Free(0x2000).Build(9);
  wire::Message third;
  third.mutable_stats()->set_dropped_events(3);
  third.mutable_goodbye()->set_how("exit");
  return {first, second, third};
}

std::string Encode(const std::vector<wire::Message>& messages) {
  std::string out = StreamHeader();
  for (const auto& m : messages) out += Frame(m);
  return out;
}

std::vector<std::string> Serialized(const std::vector<wire::Message>& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(m.SerializeAsString());
  return out;
}

TEST(StreamDecoder, EverySplitPointDecodesTheSameMessages) {
  const auto messages = ValidMessages();
  const std::string stream = Encode(messages);
  for (size_t split = 0; split <= stream.size(); ++split) {
    Collected c;
    ASSERT_TRUE(c.decoder.Feed(stream.data(), split)) << split;
    ASSERT_TRUE(c.decoder.Feed(stream.data() + split, stream.size() - split)) << split;
    ASSERT_TRUE(c.decoder.Finish()) << split << ": " << c.decoder.error();
    ASSERT_EQ(c.messages, Serialized(messages)) << "split at " << split;
  }
}

TEST(StreamDecoder, OneByteAtATime) {
  const auto messages = ValidMessages();
  const std::string stream = Encode(messages);
  Collected c;
  for (char byte : stream) ASSERT_TRUE(c.decoder.Feed(&byte, 1));
  EXPECT_TRUE(c.decoder.Finish());
  EXPECT_EQ(c.messages, Serialized(messages));
  EXPECT_EQ(c.decoder.frames_decoded(), 3u);
  EXPECT_EQ(c.decoder.bytes_received(), stream.size());
}

TEST(StreamDecoder, EmptyStreamIsNotAnError) {
  Collected c;
  EXPECT_TRUE(c.decoder.Finish());
  EXPECT_TRUE(c.messages.empty());
}

// Feeds `stream` whole; expects failure with exactly `error`.
void ExpectError(const std::string& stream, const std::string& error, size_t messages_before) {
  Collected c;
  bool ok = c.decoder.Feed(stream.data(), stream.size()) && c.decoder.Finish();
  EXPECT_FALSE(ok);
  EXPECT_EQ(c.decoder.error(), error);
  EXPECT_EQ(c.messages.size(), messages_before);
  // Sticky: nothing more is accepted.
  std::string more = Frame(ValidMessages()[2]);
  EXPECT_FALSE(c.decoder.Feed(more.data(), more.size()));
  EXPECT_EQ(c.messages.size(), messages_before);
}

TEST(StreamDecoder, BadMagic) {
  std::string stream = Encode(ValidMessages());
  stream[0] = 'X';
  ExpectError(stream, "not a leakscope stream (bad magic)", 0);
}

TEST(StreamDecoder, WrongVersion) {
  ExpectError(StreamHeader(2) + Frame(ValidMessages()[0]),
              "unsupported protocol version 2 (expected 1)", 0);
}

TEST(StreamDecoder, OversizeFrame) {
  std::string stream = StreamHeader() + Frame(ValidMessages()[0]);
  AppendU32(&stream, 100);
  AppendU32(&stream, wire::kMaxFrameRawSize + 1);
  ExpectError(stream, "frame of 16777217 bytes exceeds the limit of 16777216", 1);
}

TEST(StreamDecoder, CompressedSizeBeyondBound) {
  std::string stream = StreamHeader();
  AppendU32(&stream, static_cast<uint32_t>(LZ4_compressBound(10)) + 1);
  AppendU32(&stream, 10);
  ExpectError(stream,
              "frame claims " + std::to_string(LZ4_compressBound(10) + 1) +
                  " compressed bytes for 10 raw bytes",
              0);
}

TEST(StreamDecoder, CorruptLz4) {
  // One literal 'a', then a match 5 bytes back: before the start of the output.
  const std::string block(
      "\x10"
      "a"
      "\x05\x00"
      "\x50"
      "hello",
      10);
  std::string stream = StreamHeader();
  AppendU32(&stream, static_cast<uint32_t>(block.size()));
  AppendU32(&stream, 20);
  stream += block;
  ExpectError(stream, "frame 1: corrupt LZ4 data", 0);
}

TEST(StreamDecoder, DecompressedSizeDiffersFromHeader) {
  std::string raw = HelloMessage(1, "x").SerializeAsString();
  std::string frame = Frame(HelloMessage(1, "x"));
  // Claim one more raw byte than the block holds.
  std::string stream = StreamHeader() + frame;
  uint32_t claimed = static_cast<uint32_t>(raw.size()) + 1;
  for (int i = 0; i < 4; ++i) stream[8 + 4 + i] = static_cast<char>(claimed >> (8 * i));
  ExpectError(stream,
              "frame 1: decompressed to " + std::to_string(raw.size()) + " bytes, header says " +
                  std::to_string(claimed),
              0);
}

TEST(StreamDecoder, UnparsableMessage) {
  const std::string garbage = "\xff\xff\xff\xff";
  std::string block(LZ4_compressBound(4), '\0');
  int n = LZ4_compress_default(garbage.data(), block.data(), 4, static_cast<int>(block.size()));
  std::string stream = StreamHeader();
  AppendU32(&stream, static_cast<uint32_t>(n));
  AppendU32(&stream, 4);
  stream.append(block.data(), n);
  ExpectError(stream, "frame 1: cannot parse wire.Message", 0);
}

TEST(StreamDecoder, TruncatedFrameAtEof) {
  std::string stream = Encode(ValidMessages());
  stream.pop_back();
  const size_t last_frame = Frame(ValidMessages()[2]).size();
  ExpectError(
      stream,
      "stream ended inside a frame (" + std::to_string(last_frame - 1) + " bytes left over)", 2);
}

TEST(StreamDecoder, TruncatedHeaderAtEof) {
  ExpectError(StreamHeader().substr(0, 5),
              "stream ended inside a stream header (5 bytes left over)", 0);
}

TEST(StreamDecoder, FirstFrameWithoutHello) {
  ExpectError(StreamHeader() + Frame(ValidMessages()[2]), "frame 1: first frame has no hello", 0);
}

TEST(StreamDecoder, SecondHello) {
  auto m = ValidMessages();
  ExpectError(StreamHeader() + Frame(m[0]) + Frame(HelloMessage(1, "x")),
              "frame 2: second hello in one stream", 1);
}

TEST(StreamDecoder, UndefinedStackId) {
  wire::Message bad;
  *bad.mutable_events() = EventsBuilder().Alloc(0x5000, 1, 7).Build(1);
  ExpectError(StreamHeader() + Frame(ValidMessages()[0]) + Frame(bad),
              "frame 2: event uses undefined stack 7", 1);
}

TEST(StreamDecoder, MapEventWithAnUndefinedStack) {
  wire::Message bad;
  wire::MapEvent* e = bad.add_map_events();
  e->set_kind(wire::MapEvent::MAP);
  e->set_address(0x10000);
  e->set_length(4096);
  e->set_stack_id(7);
  ExpectError(StreamHeader() + Frame(ValidMessages()[0]) + Frame(bad),
              "frame 2: event uses undefined stack 7", 1);
}

TEST(StreamDecoder, MapEventOfUnknownKind) {
  wire::Message bad;
  bad.add_map_events()->set_kind(static_cast<wire::MapEvent::Kind>(9));
  ExpectError(StreamHeader() + Frame(ValidMessages()[0]) + Frame(bad),
              "frame 2: map event of unknown kind 9", 1);
}

TEST(StreamDecoder, MapEventRangePastTheAddressSpace) {
  wire::Message bad;
  wire::MapEvent* e = bad.add_map_events();
  e->set_kind(wire::MapEvent::REMAP_END);
  e->set_address(0x1000);
  e->set_new_address(~0ull - 4095);
  e->set_length(8192);
  ExpectError(StreamHeader() + Frame(ValidMessages()[0]) + Frame(bad),
              "frame 2: map event range past the end of the address space", 1);
}

// The shim sends stack id 0 when it ran out of memory for its stack table
// (a process at its RLIMIT_AS): the events are kept, at a site without frames.
TEST(StreamDecoder, StackIdZeroInAnEventMeansNoStack) {
  wire::Message m = HelloMessage(1, "x");
  *m.mutable_events() = EventsBuilder().Alloc(0x5000, 1, 0).Alloc(0x6000, 2, 0).Build(1);
  Collected c;
  std::string stream = StreamHeader() + Frame(m);
  EXPECT_TRUE(c.decoder.Feed(stream.data(), stream.size()));
  EXPECT_EQ(c.messages.size(), 1u);
}

TEST(StreamDecoder, StackIdsNeedNotBeSmall) {
  wire::Message m = HelloMessage(1, "x");
  AddStack(&m, 4000000000u, {0x10});
  *m.mutable_events() = EventsBuilder().Alloc(0x5000, 1, 4000000000u).Build(1);
  Collected c;
  std::string stream = StreamHeader() + Frame(m);
  EXPECT_TRUE(c.decoder.Feed(stream.data(), stream.size()));
  EXPECT_EQ(c.messages.size(), 1u);
}

TEST(StreamDecoder, StackDefinedTwice) {
  wire::Message bad;
  AddStack(&bad, 1, {0x10});
  ExpectError(StreamHeader() + Frame(ValidMessages()[0]) + Frame(bad),
              "frame 2: stack 1 defined twice", 1);
}

TEST(StreamDecoder, StackIdZero) {
  wire::Message bad = HelloMessage(1, "x");
  AddStack(&bad, 0, {0x10});
  ExpectError(StreamHeader() + Frame(bad), "frame 1: stack id 0 is reserved", 0);
}

TEST(StreamDecoder, StackTooDeep) {
  wire::Message bad = HelloMessage(1, "x");
  AddStack(&bad, 1, std::vector<uint64_t>(kMaxStackDepth + 1, 0x10));
  ExpectError(StreamHeader() + Frame(bad), "frame 1: stack 1 has 257 frames (limit 256)", 0);
}

TEST(StreamDecoder, MismatchedEventColumns) {
  wire::Message bad;
  *bad.mutable_events() = EventsBuilder().Alloc(0x5000, 1, 1).Free(0x5000).Build(1);
  bad.mutable_events()->add_address_delta(8);
  ExpectError(StreamHeader() + Frame(ValidMessages()[0]) + Frame(bad),
              "frame 2: events columns disagree (2 sizes, 3 addresses)", 1);
}

TEST(StreamDecoder, StackIdCountDiffersFromAllocations) {
  wire::Message bad;
  *bad.mutable_events() = EventsBuilder().Alloc(0x5000, 1, 1).Alloc(0x6000, 1, 1).Build(1);
  bad.mutable_events()->mutable_stack_id()->RemoveLast();
  ExpectError(StreamHeader() + Frame(ValidMessages()[0]) + Frame(bad),
              "frame 2: events have 2 allocations but 1 stack ids", 1);
}

// Folded allocations (preload/transient_folder.h): one pair at stack 1,
// +16 B live then -16 B; each test below breaks one rule.
wire::Message FoldedPair() {
  wire::Message m;
  wire::Events* e = m.mutable_events();
  e->set_time_ns(1);
  e->add_transient_stack_id(1);
  e->add_transient_count(1);
  e->add_transient_bytes(16);
  e->add_transient_temporary(1);
  for (int64_t bytes : {16, -16}) {
    e->add_adjust_before_delta(0);
    e->add_adjust_entries(1);
    e->add_adjust_stack_id(1);
    e->add_adjust_bytes(bytes);
    e->add_adjust_address(0);
  }
  return m;
}

std::string AfterHello(const wire::Message& m, uint64_t sampling_interval = 1) {
  wire::Message hello = HelloMessage(42, "/usr/bin/app", sampling_interval);
  AddStack(&hello, 1, {0x401010});
  return StreamHeader() + Frame(hello) + Frame(m);
}

TEST(StreamDecoder, FoldedPairIsAccepted) {
  Collected c;
  const std::string stream = AfterHello(FoldedPair());
  EXPECT_TRUE(c.decoder.Feed(stream.data(), stream.size())) << c.decoder.error();
  EXPECT_EQ(c.messages.size(), 2u);
}

TEST(StreamDecoder, FoldedAllocationsInASampledStream) {
  ExpectError(AfterHello(FoldedPair(), 4096), "frame 2: folded allocations in a sampled stream", 1);
}

// Each case breaks one rule of the folded columns, and is refused for it.
struct BadFolding {
  const char* name;
  void (*Break)(wire::Events* e);
  const char* error;
};

class FoldedColumns : public ::testing::TestWithParam<BadFolding> {};

TEST_P(FoldedColumns, AreRefusedWhenTheyBreakARule) {
  wire::Message bad = FoldedPair();
  GetParam().Break(bad.mutable_events());
  ExpectError(AfterHello(bad), GetParam().error, 1);
}

INSTANTIATE_TEST_SUITE_P(
    StreamDecoder, FoldedColumns,
    ::testing::Values(
        BadFolding{"ColumnsDisagree", [](wire::Events* e) { e->add_transient_bytes(3); },
                   "frame 2: folded allocation columns disagree"},
        BadFolding{"MoreTemporaryThanFolded",
                   [](wire::Events* e) { e->set_transient_temporary(0, 2); },
                   "frame 2: more temporary than folded allocations"},
        BadFolding{"AdjustmentAfterTheLastEvent",
                   [](wire::Events* e) { e->set_adjust_before_delta(1, 1); },
                   "frame 2: adjustment after the last event"},
        BadFolding{"AdjustmentEntriesDisagree",
                   [](wire::Events* e) { e->set_adjust_entries(1, 2); },
                   "frame 2: adjustments have 3 entries but 2 stacks and 2 byte counts"},
        BadFolding{"LiveBytesBelowZero",
                   [](wire::Events* e) {
                     e->set_adjust_bytes(0, -16);
                     e->set_adjust_bytes(1, 16);
                   },
                   "frame 2: folded live bytes of stack 1 go out of range"},
        BadFolding{"LiveBytesLeftOver", [](wire::Events* e) { e->set_adjust_bytes(1, -15); },
                   "frame 2: folded live bytes of stack 1 do not return to zero"},
        BadFolding{"UndefinedStack", [](wire::Events* e) { e->set_transient_stack_id(0, 9); },
                   "frame 2: event uses undefined stack 9"}),
    [](const ::testing::TestParamInfo<BadFolding>& i) { return std::string(i.param.name); });

TEST(StreamDecoder, OddModuleRanges) {
  wire::Message bad = HelloMessage(1, "x");
  wire::Module* mod = bad.add_modules();
  mod->set_path("/lib/a.so");
  mod->add_exec_ranges(0x1000);
  ExpectError(StreamHeader() + Frame(bad),
              "frame 1: module /lib/a.so has an odd number of range bounds", 0);
}

}  // namespace
}  // namespace leakscope::collector
