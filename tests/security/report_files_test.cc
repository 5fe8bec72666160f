// No symlink or race on report files: a name planted at the temporary or
// the final name is never followed or replaced, an existing report (pid
// reuse, a restarted daemon) is never overwritten, and reports are 0600.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "daemon_test_util.h"
#include "hostile_client.h"
#include "report_file.h"
#include "run_process.h"
#include "second_uid.h"
#include "wire_test_encoder.h"

namespace leakscope::security {
namespace {

using api_testing::Daemon;
using api_testing::ScratchDir;

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

report::Report SomeReport(uint32_t pid) {
  report::Report r;
  r.mutable_process()->set_pid(pid);
  return r;
}

// The writer itself, in any folder: a symlink at the temporary name is not
// followed, one at the final name is replaced as a name (rename).
TEST(ReportFiles, ASymlinkAtTheTemporaryNameIsNotFollowed) {
  ScratchDir dir;
  const std::string victim = dir.path() + "/victim", path = dir.path() + "/r.lsr";
  std::ofstream(victim) << "keep";
  ASSERT_EQ(symlink(victim.c_str(), (path + ".tmp." + std::to_string(getpid())).c_str()), 0);
  ASSERT_EQ(symlink(victim.c_str(), path.c_str()), 0);
  std::string error;
  ASSERT_TRUE(report::WriteReportFile(path, SomeReport(5), &error, {0600})) << error;
  EXPECT_EQ(Contents(victim), "keep");
  EXPECT_TRUE(IsRegularFile(path));
  EXPECT_EQ(testing::ReadReport(path).process().pid(), 5u);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(ReportFiles, ANewFileNeverReplacesAName) {
  ScratchDir dir;
  const std::string victim = dir.path() + "/victim";
  std::ofstream(victim) << "keep";
  const std::string a = dir.path() + "/a.lsr", b = dir.path() + "/b.lsr", c = dir.path() + "/c.lsr";
  ASSERT_EQ(symlink(victim.c_str(), a.c_str()), 0);  // planted
  std::ofstream(b) << "an earlier report";
  std::string written, error;
  std::string bytes;
  ASSERT_TRUE(report::EncodeReportFile(SomeReport(6), &bytes));
  const auto names = [&](int attempt) { return attempt == 0 ? a : attempt == 1 ? b : c; };
  ASSERT_EQ(report::WriteNewFile(names, bytes, {0600}, &written, &error),
            report::WriteStatus::kWritten)
      << error;
  EXPECT_EQ(written, c);
  EXPECT_EQ(Contents(victim), "keep");
  EXPECT_EQ(Contents(b), "an earlier report");
  EXPECT_EQ(Contents(c), bytes);
}

// The daemon's output folder shared the sticky way (1777, as /tmp): the
// second uid plants links at the names a report of "its" pid would take.
TEST(ReportFiles, LinksPlantedInAStickyFolderAreNeitherFollowedNorReplaced) {
  LEAKSCOPE_SECOND_UID(who);
  ScratchDir roots;  // root's files the links point at
  chmod(roots.path().c_str(), 0755);
  const std::string victim1 = roots.path() + "/one", victim2 = roots.path() + "/two";
  std::ofstream(victim1) << "one";
  std::ofstream(victim2) << "two";
  ScratchDir parent;
  chmod(parent.path().c_str(), 0755);
  const std::string out = parent.path() + "/out";
  ASSERT_EQ(mkdir(out.c_str(), 0700), 0);
  ASSERT_EQ(chmod(out.c_str(), 01777), 0);
  Daemon daemon(LEAKSCOPED_PATH, {"--output", out, "--allow-uid", std::to_string(who.uid),
                                  "--socket-group", kSecondUser});
  ASSERT_TRUE(daemon.ok()) << daemon.said();
  chmod(daemon.dir().c_str(), 0711);
  const std::string final_name = out + "/victim.4242.lsr";
  const std::string tmp_name = final_name + ".tmp." + std::to_string(daemon.pid());
  // Planted as the second uid: a shell that makes the two links.
  const auto planted =
      api_testing::RunProcessAs(who.uid, who.gid,
                                {"/bin/sh", "-c", "ln -s \"$1\" \"$2\" && ln -s \"$3\" \"$4\"",
                                 "sh", victim1, final_name, victim2, tmp_name});
  ASSERT_EQ(planted.exit_status, 0) << planted.output;
  wire::Message bye;
  bye.mutable_goodbye();
  SendAs(who, daemon.socket(),
         testing::StreamHeader() + testing::Frame(testing::HelloMessage(4242, "/bin/victim")) +
             testing::Frame(bye),
         /*want_reply=*/false);
  // The report is written when the stream ends: somewhere, or over a victim.
  std::vector<std::string> reports;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        reports.clear();
        for (const std::string& p : testing::FilesWith(out, "victim.4242"))
          if (IsRegularFile(p) && p.size() > 4 && p.substr(p.size() - 4) == ".lsr")
            reports.push_back(p);
        return !reports.empty() || Contents(victim1) != "one" || Contents(victim2) != "two";
      },
      std::chrono::seconds(10)));
  EXPECT_EQ(Contents(victim1), "one");
  EXPECT_EQ(Contents(victim2), "two");
  ASSERT_EQ(reports, std::vector<std::string>{out + "/victim.4242.2.lsr"});
  struct stat st;
  ASSERT_EQ(lstat(reports[0].c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_gid, who.gid);
  // The planted links are still the second uid's own business.
  EXPECT_EQ(lstat(final_name.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
}

// A restarted daemon (or a reused pid) finds the report of an earlier
// process under the name it would give: it takes the next one.
TEST(ReportFiles, AnExistingReportIsNeverOverwritten) {
  Daemon daemon(LEAKSCOPED_PATH);
  ASSERT_TRUE(daemon.ok()) << daemon.said();
  const std::string earlier = daemon.dir() + "/svc.777.lsr";
  std::ofstream(earlier) << "the report of an earlier svc with pid 777";
  const int fd = testing::ConnectUnix(daemon.socket());
  wire::Message bye;
  bye.mutable_goodbye();
  testing::WriteAll(fd, testing::StreamHeader() +
                            testing::Frame(testing::HelloMessage(777, "/usr/sbin/svc")) +
                            testing::Frame(bye));
  close(fd);
  daemon.Stop();  // every report is written by then
  EXPECT_EQ(Contents(earlier), "the report of an earlier svc with pid 777");
  const std::string next = daemon.dir() + "/svc.777.2.lsr";
  ASSERT_TRUE(IsRegularFile(next));
  EXPECT_EQ(testing::ReadReport(next).process().pid(), 777u);
  struct stat st;
  ASSERT_EQ(stat(next.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

}  // namespace
}  // namespace leakscope::security
