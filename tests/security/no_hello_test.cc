// A connection that never sends a valid Hello is no process: it gets no
// report file. Before, every connection that sent a byte got one (3,000
// one-byte connections, 3,000 files): anyone allowed on the socket could fill
// the output folder.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hostile_client.h"
#include "logged_daemon.h"
#include "run_process.h"
#include "second_uid.h"
#include "wire_test_encoder.h"

namespace leakscope::security {
namespace {

using api_testing::FilesEndingWith;

TEST(NoHelloNoReport, ConnectionsThatNeverSayHelloWriteNoFile) {
  LEAKSCOPE_SECOND_UID(who);
  LoggedDaemon daemon(OpenTo(who));
  ASSERT_TRUE(daemon.ok()) << daemon.log();
  wire::Message events;  // a valid frame, but not a hello
  *events.mutable_events() = testing::EventsBuilder().Free(0x10).Build(1);
  const std::string hello = testing::Frame(testing::HelloMessage(4000, "/usr/bin/hostile"));
  // Each way of not saying hello, 100 times over.
  const std::vector<std::string> kinds = {
      "L",                                               // one byte
      "GARBAGE!",                                        // bad magic
      testing::StreamHeader(2),                          // another protocol version
      testing::StreamHeader(),                           // the header alone
      testing::StreamHeader() + hello.substr(0, 20),     // half a hello frame
      testing::StreamHeader() + testing::Frame(events),  // first frame without hello
      testing::StreamHeader() + std::string(8, '\xff'),  // a frame header over the limit
  };
  std::vector<std::string> streams;
  for (int i = 0; i < 100; ++i) streams.insert(streams.end(), kinds.begin(), kinds.end());
  ASSERT_EQ(SendEachAs(who, daemon.socket(), streams), streams.size());
  // And one real process, whose report is the only file.
  wire::Message bye;
  bye.mutable_goodbye()->set_how("exit");
  ASSERT_EQ(
      SendEachAs(who, daemon.socket(), {testing::StreamHeader() + hello + testing::Frame(bye)}),
      1u);
  daemon.Stop();  // every connection read and closed by then
  EXPECT_EQ(FilesEndingWith(daemon.dir(), ".lsr"), std::vector<std::string>{"hostile.4000.lsr"})
      << daemon.log().substr(0, 2000);
}

}  // namespace
}  // namespace leakscope::security
