// A memory budget across all streams (--max-memory). Before, 197 KB of valid
// input (LZ4 frames of packed events, every one a live allocation) took the
// daemon to 1.5 GiB, and 20 half-sent 16 MiB frames held 367 MiB. Now the
// stream that would break the budget is cut short, with a one-line reason in
// the log and in its report, which is still written.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "hostile_client.h"
#include "logged_daemon.h"
#include "report_file.h"
#include "run_process.h"
#include "second_uid.h"
#include "wire_test_encoder.h"

namespace leakscope::security {
namespace {

using namespace std::chrono_literals;

constexpr uint64_t kMiB = 1 << 20;

report::Report ReadReport(const std::string& path) {
  report::Report r;
  std::string error;
  EXPECT_TRUE(report::ReadReportFile(path, &r, &error)) << error;
  return r;
}

// `frames` frames of `per_frame` allocations of 16 bytes each, 16 bytes
// apart, all live: ~3 bytes each on the wire before LZ4, which packs the
// regular columns ~100-fold.
std::string AllocationFlood(uint32_t pid, int frames, int per_frame) {
  wire::Message hello = testing::HelloMessage(pid, "/usr/bin/flood");
  testing::AddStack(&hello, 1, {0x401000});
  std::string stream = testing::StreamHeader() + testing::Frame(hello);
  uint64_t address = 0x10000000;
  for (int f = 0; f < frames; ++f) {
    testing::EventsBuilder events;
    for (int i = 0; i < per_frame; ++i, address += 16) events.Alloc(address, 16, 1);
    wire::Message m;
    *m.mutable_events() = events.Build(uint64_t(f) + 1);
    stream += testing::Frame(m);
  }
  return stream;
}

TEST(MemoryBudget, AFloodOfLiveAllocationsIsCutShortAtTheBudget) {
  LEAKSCOPE_SECOND_UID(who);
  LoggedDaemon daemon(OpenTo(who, {"--max-memory", "64M"}));
  ASSERT_TRUE(daemon.ok()) << daemon.log();
  const uint64_t start_kib = daemon.StatusKiB("VmHWM");
  // 8 million live allocations (~400 MiB of live table unbounded) in 40 frames.
  const std::string flood = AllocationFlood(4300, 40, 200'000);
  std::printf("flood: %zu bytes on the wire\n", flood.size());
  ASSERT_EQ(SendEachAs(who, daemon.socket(), {flood}), 1u);
  ASSERT_TRUE(daemon.WaitForLog("leakscoped: wrote " + daemon.dir() + "/flood.4300.lsr", 60s))
      << daemon.log();
  const uint64_t peak_kib = daemon.StatusKiB("VmHWM");
  std::printf("VmHWM %llu KiB at start, %llu KiB after\n", (unsigned long long)start_kib,
              (unsigned long long)peak_kib);
  // The budget, and 16 MiB for what it does not see (the allocator's slack,
  // a read buffer, the report being built).
  EXPECT_LE(peak_kib - start_kib, (64 + 16) * 1024);
  const std::vector<std::string> lines = api_testing::LinesWith(daemon.log(), "pid 4300");
  ASSERT_EQ(lines.size(), 1u) << daemon.log();
  const std::string prefix = "leakscoped: closing stream of pid 4300 (/usr/bin/flood): frame ";
  EXPECT_EQ(lines[0].substr(0, prefix.size()), prefix);
  EXPECT_NE(lines[0].find(": applying it would take up to "), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(" MiB more, over the memory budget ("), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(" of 64 MiB in use by all streams; --max-memory)"), std::string::npos)
      << lines[0];
  const report::Report r = ReadReport(daemon.dir() + "/flood.4300.lsr");
  EXPECT_EQ(r.process().cut_short(), lines[0].substr(lines[0].find("): frame ") + 3));
  // Cut between frames: what it applied is whole. 4 frames fit in a table of
  // 2^20 buckets (28 MiB); the fifth needs 2^21 more (56 MiB) while rehashing.
  EXPECT_EQ(r.totals().live_allocations(), 800'000u);
  EXPECT_EQ(r.totals().live_bytes(), 16 * r.totals().live_allocations());
}

TEST(MemoryBudget, AFrameTooBigForTheBudgetIsNotDecoded) {
  LEAKSCOPE_SECOND_UID(who);
  LoggedDaemon daemon(OpenTo(who, {"--max-memory", "64M"}));
  ASSERT_TRUE(daemon.ok()) << daemon.log();
  // 4 million allocations in one frame of 12 MB: 17 times that to decode at most.
  const std::string flood = AllocationFlood(4301, 1, 4'000'000);
  ASSERT_EQ(SendEachAs(who, daemon.socket(), {flood}), 1u);
  ASSERT_TRUE(daemon.WaitForLog("leakscoped: wrote " + daemon.dir() + "/flood.4301.lsr", 60s))
      << daemon.log();
  const report::Report r = ReadReport(daemon.dir() + "/flood.4301.lsr");
  const std::string why = r.process().cut_short();
  const std::string prefix = "frame 2: decoding it would take up to ";
  ASSERT_EQ(why.substr(0, prefix.size()), prefix);
  // The frame's raw size, from its header: after the stream header and the hello frame.
  const size_t at = 8 + 8 + testing::ReadU32(flood, 8);
  const uint64_t bound = (uint64_t(testing::ReadU32(flood, at + 4)) * 17 + kMiB - 1) / kMiB;
  EXPECT_EQ(why.substr(0, why.find(" more")), prefix + std::to_string(bound) + " MiB");
  EXPECT_NE(why.find(" of 64 MiB in use by all streams; --max-memory)"), std::string::npos) << why;
  EXPECT_EQ(r.totals().live_allocations(), 0u);
}

// Half-sent 8 MiB frames, each held open: the budget cuts the streams that
// would break it as their bytes arrive.
TEST(MemoryBudget, HalfSentFramesHoldNoMoreThanTheBudget) {
  LEAKSCOPE_SECOND_UID(who);
  LoggedDaemon daemon(OpenTo(who, {"--max-memory", "44M", "--frame-timeout", "600"}));
  ASSERT_TRUE(daemon.ok()) << daemon.log();
  const uint64_t start_kib = daemon.StatusKiB("VmHWM");
  std::string half =
      testing::StreamHeader() + testing::Frame(testing::HelloMessage(4400, "/usr/bin/half"));
  testing::AppendU32(&half, 8 << 20);
  testing::AppendU32(&half, 8 << 20);
  half += std::string((8 << 20) - 1, 'x');  // all but its last byte
  HeldConnections held(who, daemon.socket(), 12, half);
  ASSERT_EQ(held.connected(), 12u);
  // 5 frames of 8 MiB fit in 44 MiB, not 6: 7 streams are cut.
  ASSERT_TRUE(daemon.WaitForLog("took all streams over the memory budget of 44 MiB", 60s, 7))
      << daemon.log();
  const uint64_t peak_kib = daemon.StatusKiB("VmHWM");
  std::printf("VmHWM %llu KiB at start, %llu KiB with the frames held\n",
              (unsigned long long)start_kib, (unsigned long long)peak_kib);
  EXPECT_LE(peak_kib - start_kib, (44 + 16) * 1024);
  held.Release();
  daemon.Stop();
  const std::string log = daemon.log();
  EXPECT_EQ(LoggedDaemon::Count(log, "took all streams over the memory budget of 44 MiB"), 7u);
  // Every stream said hello: 12 reports (the others ended inside their frame).
  EXPECT_EQ(api_testing::FilesEndingWith(daemon.dir(), ".lsr").size(), 12u);
}

}  // namespace
}  // namespace leakscope::security
