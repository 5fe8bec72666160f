// Report names are the daemon's own, whatever a client says its exe is:
// one path component, no control characters, short enough to be written.
#include <gtest/gtest.h>

#include <string>

#include "daemon_test_util.h"
#include "run_process.h"
#include "snapshot_files.h"
#include "wire_test_encoder.h"

namespace leakscope::security {
namespace {

using api_testing::Daemon;

TEST(ReportNames, AnExeIsOnlyEverItsLastComponent) {
  EXPECT_EQ(collector::ExeBasename("/x/../../etc/passwd"), "passwd");
  EXPECT_EQ(collector::ExeBasename("/usr/bin/"), "unknown");
  EXPECT_EQ(collector::ExeBasename(".."), "unknown");
  // A newline would forge a line of the daemon's log ("leakscoped: wrote PATH").
  EXPECT_EQ(collector::ExeBasename("/bin/a\nleakscoped: wrote x\x7f"), "a_leakscoped: wrote x_");
}

TEST(ReportNames, ALabelIsOneHarmlessComponent) {
  EXPECT_EQ(collector::SanitizeName("../../etc/cron.d/x", 64), "_._.._etc_cron.d_x");
  EXPECT_EQ(collector::SanitizeName(".hidden", 64), "_hidden");
  EXPECT_EQ(collector::SanitizeName("ok-1.2_3", 64), "ok-1.2_3");
  EXPECT_EQ(collector::SanitizeName(std::string(100, 'a'), 64), std::string(64, 'a'));
}

// An exe whose last component is as long as a file name may be (255) left
// no room for ".<pid>.lsr": the report could not be written at all.
TEST(ReportNames, AnExeTooLongForAFileNameStillGetsItsReport) {
  Daemon daemon(LEAKSCOPED_PATH);
  ASSERT_TRUE(daemon.ok()) << daemon.said();
  const std::string exe = "/usr/bin/" + std::string(255, 'x');
  const int fd = testing::ConnectUnix(daemon.socket());
  wire::Message bye;
  bye.mutable_goodbye();
  testing::WriteAll(fd, testing::StreamHeader() + testing::Frame(testing::HelloMessage(99, exe)) +
                            testing::Frame(bye));
  close(fd);
  daemon.Stop();  // every report is written by then
  const auto reports = api_testing::FilesEndingWith(daemon.dir(), ".lsr");
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0], std::string(127, 'x') + ".99.lsr");
  EXPECT_EQ(testing::ReadReport(daemon.dir() + "/" + reports[0]).process().exe(), exe);
}

}  // namespace
}  // namespace leakscope::security
