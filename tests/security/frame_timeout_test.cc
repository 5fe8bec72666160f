// Half-sent frames time out: a frame header announcing N bytes, then
// silence, held a stream (its buffer, its descriptor) for ever. Now a hello
// or frame not whole --frame-timeout after its first byte arrived cuts the
// stream short; a stream that said hello still gets its report, saying why.
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

TEST(FrameTimeout, HalfSentFramesAreCutShortAndReported) {
  LEAKSCOPE_SECOND_UID(who);
  LoggedDaemon daemon(OpenTo(who, {"--frame-timeout", "1"}));
  ASSERT_TRUE(daemon.ok()) << daemon.log();
  const std::string hello = testing::Frame(testing::HelloMessage(4200, "/usr/bin/stalled"));
  // After its hello, a frame header announcing 1 MiB, and 100 bytes of it.
  std::string stalled = testing::StreamHeader() + hello;
  testing::AppendU32(&stalled, 1u << 20);
  testing::AppendU32(&stalled, 1u << 20);
  stalled += std::string(100, 'x');
  HeldConnections frame(who, daemon.socket(), 1, stalled);
  // Half a hello frame; and connections that say nothing at all.
  HeldConnections half_hello(who, daemon.socket(), 1,
                             testing::StreamHeader() + hello.substr(0, 20));
  HeldConnections silent(who, daemon.socket(), 2, "");
  ASSERT_EQ(frame.connected() + half_hello.connected() + silent.connected(), 4u);

  const std::string why = "frame incomplete after 1000 ms (--frame-timeout): 108 of 1048584 bytes";
  ASSERT_TRUE(daemon.WaitForLog("leakscoped: wrote " + daemon.dir() + "/stalled.4200.lsr", 60s))
      << daemon.log();
  EXPECT_TRUE(daemon.WaitForLog("no hello within 1000 ms (--frame-timeout)", 60s, 2))
      << daemon.log();
  const std::string half = "frame incomplete after 1000 ms (--frame-timeout): 20 of " +
                           std::to_string(8 + testing::ReadU32(hello)) + " bytes";
  EXPECT_TRUE(daemon.WaitForLog(half, 60s)) << daemon.log();
  const std::string log = daemon.log();
  EXPECT_EQ(api_testing::LinesWith(log, "pid 4200"),
            std::vector<std::string>{"leakscoped: closing stream of pid 4200 (/usr/bin/stalled): " +
                                     why});
  report::Report r;
  std::string error;
  ASSERT_TRUE(report::ReadReportFile(daemon.dir() + "/stalled.4200.lsr", &r, &error)) << error;
  EXPECT_EQ(r.process().cut_short(), why);
  EXPECT_EQ(r.process().end(), report::Process::DISCONNECTED);
  // Only the stream that said hello has a report.
  daemon.Stop();
  EXPECT_EQ(api_testing::FilesEndingWith(daemon.dir(), ".lsr"),
            std::vector<std::string>{"stalled.4200.lsr"});
}

}  // namespace
}  // namespace leakscope::security
