// No client-chosen paths: an allowed uid asks the daemon (running as root)
// for a snapshot "to" a root-owned 0600 file in a 0700 folder, the attack
// that once replaced such a file with a report. The daemon writes only in its
// --output folder, under names it builds; a label is sanitized; a path given
// to leakscope_snapshot() is written by the client itself, with its rights.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "hostile_client.h"
#include "report_file.h"
#include "run_process.h"
#include "second_uid.h"
#include "wire_test_encoder.h"

namespace leakscope::security {
namespace {

using api_testing::Daemon;
using api_testing::RunProcessAs;
using api_testing::ScratchDir;

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A root-owned 0600 file in a 0700 folder, as /etc/cron.d or /root would be.
struct RootsFile {
  ScratchDir dir;
  std::string path = dir.path() + "/crontab";
  const std::string content = "* * * * * root /usr/local/bin/backup\n";
  RootsFile() {
    chmod(dir.path().c_str(), 0700);
    std::ofstream(path) << content;
    chmod(path.c_str(), 0600);
  }
  void ExpectUntouched() const {
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(Contents(path), content) << "the daemon wrote over " << path;
    EXPECT_EQ(st.st_uid, 0u);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
  }
};

// leakscoped as root, open to the second uid through --socket-group and
// --allow-uid, its folder reachable (not listable) by it.
std::unique_ptr<Daemon> DaemonOpenTo(const SecondUid& who) {
  auto d = std::make_unique<Daemon>(LEAKSCOPED_PATH,
                                    std::vector<std::string>{"--allow-uid", std::to_string(who.uid),
                                                             "--socket-group", kSecondUser});
  EXPECT_TRUE(d->ok()) << d->said();
  chmod(d->dir().c_str(), 0711);
  return d;
}

wire::Message SnapshotQuery(const std::string& path) {
  wire::Message m;
  m.mutable_query()->set_id(7);
  m.mutable_query()->set_kind(wire::Query::SNAPSHOT);
  m.mutable_query()->set_path(path);
  return m;
}

TEST(ClientChosenPaths, AQueryPathNeverSaysWhereTheDaemonWrites) {
  LEAKSCOPE_SECOND_UID(who);
  RootsFile victim;
  auto daemon = DaemonOpenTo(who);
  ASSERT_TRUE(daemon->ok());
  const std::string stream = testing::StreamHeader() +
                             testing::Frame(testing::HelloMessage(4242, "/usr/bin/hostile")) +
                             testing::Frame(SnapshotQuery(victim.path));
  const ClientResult r = SendAs(who, daemon->socket(), stream, /*want_reply=*/true);
  ASSERT_TRUE(r.replied);
  victim.ExpectUntouched();
  // The snapshot went where the daemon chose, as the daemon's file.
  EXPECT_TRUE(r.reply.ok()) << r.reply.error();
  EXPECT_EQ(r.reply.path(), daemon->dir() + "/hostile.4242.snapshot-1.lsr");
  struct stat st;
  ASSERT_EQ(stat(r.reply.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, who.gid);         // --socket-group's
  EXPECT_EQ(st.st_mode & 07777, 0640u);  // readable by that group, no more
}

TEST(ClientChosenPaths, ALabelIsSanitizedNeverAPath) {
  LEAKSCOPE_SECOND_UID(who);
  auto daemon = DaemonOpenTo(who);
  ASSERT_TRUE(daemon->ok());
  wire::Message q = SnapshotQuery("");
  const std::string label = "../../etc/cron.d/x y" + std::string(100, 'z');
  q.mutable_query()->set_label(label);
  const std::string stream = testing::StreamHeader() +
                             testing::Frame(testing::HelloMessage(4243, "/usr/bin/hostile")) +
                             testing::Frame(q);
  const ClientResult r = SendAs(who, daemon->socket(), stream, /*want_reply=*/true);
  ASSERT_TRUE(r.replied);
  EXPECT_TRUE(r.reply.ok()) << r.reply.error();
  // [A-Za-z0-9._-] kept, the rest '_', a leading '.' too, 64 characters at most.
  std::string expected = label.substr(0, 64);
  for (char& c : expected)
    if (!isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') c = '_';
  expected[0] = '_';
  EXPECT_EQ(r.reply.path(), daemon->dir() + "/hostile.4243.snapshot-" + expected + ".lsr");
  EXPECT_EQ(access(r.reply.path().c_str(), F_OK), 0);
}

// The real shim and leakscope.h, run as the second uid.
TEST(ClientChosenPaths, TheApiWritesAPathWithTheClientsOwnRights) {
  LEAKSCOPE_SECOND_UID(who);
  RootsFile victim;
  auto daemon = DaemonOpenTo(who);
  ASSERT_TRUE(daemon->ok());
  ScratchDir own;  // the client's own folder
  ASSERT_EQ(chown(own.path().c_str(), who.uid, who.gid), 0);
  const std::string mine = own.path() + "/mine.lsr";
  const auto r = RunProcessAs(
      who.uid, who.gid,
      {SNAPSHOT_CLIENT_PATH, "path:" + victim.path, "path:" + mine, "label:nightly", "none"},
      {"LD_PRELOAD=" LEAKSCOPE_SHIM_PATH, "LEAKSCOPE_SAMPLE_INTERVAL=1",
       "LEAKSCOPE_SOCKET=" + daemon->socket()});
  ASSERT_EQ(r.exit_status, 0) << r.output;
  const std::string pid = r.output.substr(4, r.output.find('\n') - 4);
  const std::string name = "snapshot_client." + pid;
  EXPECT_EQ(r.output, "pid " + pid + "\n" +
                          "path 4\n"  // LEAKSCOPE_ERROR: the client may not write there
                          "path 0\n" +
                          "label 0 " + daemon->dir() + "/" + name + ".snapshot-nightly.lsr\n" +
                          "none 0\n");
  victim.ExpectUntouched();
  struct stat st;
  ASSERT_EQ(stat(mine.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, who.uid) << "written by the daemon, not by the client";
  report::Report report;
  std::string error;
  ASSERT_TRUE(report::ReadReportFile(mine, &report, &error)) << error;
  EXPECT_EQ(report.process().pid(), std::stoul(pid));
  // The NULL one: numbered, after the labelled one (the second asked for).
  EXPECT_EQ(access((daemon->dir() + "/" + name + ".snapshot-2.lsr").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace leakscope::security
