// Server end to end: test clients write streams to a real socket in a temp
// directory; the report files are read back and checked exactly.
#include "server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <thread>

#include "daemon_test_util.h"
#include "report_file.h"
#include "server_fixture.h"
#include "wire_test_encoder.h"

namespace leakscope::collector {
namespace {

using testing::AddStack;
using testing::EventsBuilder;
using testing::Frame;
using testing::HelloMessage;
using testing::StreamHeader;
using namespace std::chrono_literals;

int Connect(const std::string& path) {
  return testing::ConnectUnix(path);
}
using testing::WriteAll;

// hello(pid, exe), one stack, 100 bytes live and 50 freed, 2 dropped events.
std::string GoodStream(uint32_t pid, const std::string& exe, bool goodbye = true,
                       const std::string& arg = "") {
  wire::Message m = HelloMessage(pid, exe);
  if (!arg.empty()) {
    m.mutable_hello()->add_argv(arg);
    m.mutable_hello()->set_start_time_unix_ns(m.hello().start_time_unix_ns() + 1000);
  }
  AddStack(&m, 1, {0x1001});
  *m.mutable_events() = EventsBuilder().Alloc(0x10, 100, 1).Alloc(0x20, 50, 1).Build(5);
  wire::Message m2;
  *m2.mutable_events() = EventsBuilder().Free(0x20).Build(6);
  m2.mutable_stats()->set_dropped_events(2);
  if (goodbye) m2.mutable_goodbye()->set_how("exit");
  return StreamHeader() + Frame(m) + Frame(m2);
}

class ServerTest : public testing::ServerFixture {
 protected:
  void Send(const std::string& stream) {
    int fd = Connect(socket_path);
    WriteAll(fd, stream);
    close(fd);
  }
};

TEST_F(ServerTest, SocketIsPrivate) {
  struct stat st;
  ASSERT_EQ(stat(socket_path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(ServerTest, GoodStreamWritesItsReport) {
  Send(GoodStream(4242, "/usr/bin/e2e"));
  auto done = server->WaitForReport(4242, 20s);
  ASSERT_TRUE(done);
  EXPECT_EQ(done->pid, 4242u);
  EXPECT_EQ(done->report_path, dir + "/e2e.4242.lsr");
  EXPECT_EQ(done->error, "");
  report::Report r = ReadReport(done->report_path);
  EXPECT_EQ(r.process().pid(), 4242u);
  EXPECT_EQ(r.process().exe(), "/usr/bin/e2e");
  EXPECT_EQ(r.process().end(), report::Process::ENDED);
  EXPECT_EQ(r.process().how(), "exit");
  EXPECT_TRUE(r.final());
  EXPECT_EQ(r.totals().allocations(), 2u);
  EXPECT_EQ(r.totals().frees(), 1u);
  EXPECT_EQ(r.totals().allocated_bytes(), 150u);
  EXPECT_EQ(r.totals().live_bytes(), 100u);
  EXPECT_EQ(r.totals().peak_live_bytes(), 150u);
  EXPECT_EQ(r.dropped_events(), 2u);
  ASSERT_EQ(r.sites_size(), 1);
  EXPECT_EQ(r.sites(0).live_bytes(), 100u);
  EXPECT_EQ(r.sites(0).allocations(), 2u);
  ASSERT_EQ(r.sites(0).frames_size(), 1);
  EXPECT_EQ(r.frames(r.sites(0).frames(0)).function(), "0x1000");  // in no module
}

TEST_F(ServerTest, MalformedStreamNextToAGoodOne) {
  int good = Connect(socket_path);
  std::string good_stream = GoodStream(1111, "/bin/good");
  WriteAll(good, good_stream.substr(0, 20));  // the good one is mid-frame meanwhile

  wire::Message first = HelloMessage(2222, "/bin/bad");
  AddStack(&first, 1, {0x2001});
  *first.mutable_events() = EventsBuilder().Alloc(0x10, 64, 1).Build(1);
  wire::Message bad;
  *bad.mutable_events() = EventsBuilder().Alloc(0x20, 8, 9).Build(2);
  ::testing::internal::CaptureStderr();
  Send(StreamHeader() + Frame(first) + Frame(bad));
  auto bad_done = server->WaitForReport(2222, 20s);
  std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(log,
            "leakscoped: closing stream of pid 2222 (/bin/bad): frame 2: event uses "
            "undefined stack 9\n");
  ASSERT_TRUE(bad_done);
  report::Report b = ReadReport(bad_done->report_path);
  EXPECT_EQ(b.process().end(), report::Process::DISCONNECTED);
  EXPECT_EQ(b.totals().allocations(), 1u);
  EXPECT_EQ(b.totals().live_bytes(), 64u);

  WriteAll(good, good_stream.substr(20));
  close(good);
  auto good_done = server->WaitForReport(1111, 20s);
  ASSERT_TRUE(good_done);
  report::Report g = ReadReport(good_done->report_path);
  EXPECT_EQ(g.process().end(), report::Process::ENDED);
  EXPECT_EQ(g.totals().live_bytes(), 100u);
  EXPECT_EQ(g.totals().allocated_bytes(), 150u);
}

TEST_F(ServerTest, StreamWithoutGoodbyeIsDisconnected) {
  Send(GoodStream(77, "/bin/crashy", /*goodbye=*/false));
  auto done = server->WaitForReport(77, 20s);
  ASSERT_TRUE(done);
  EXPECT_EQ(ReadReport(done->report_path).process().end(), report::Process::DISCONNECTED);
}

TEST_F(ServerTest, RecordExitRewritesAFinishedReport) {
  Send(GoodStream(88, "/bin/app"));
  auto done = server->WaitForReport(88, 20s);
  ASSERT_TRUE(done);
  server->RecordExit(88, 5 << 8);  // exit(5)
  report::Report r = ReadReport(done->report_path);
  EXPECT_EQ(r.process().end(), report::Process::EXITED);
  EXPECT_EQ(r.process().exit_status(), 5);
  EXPECT_EQ(r.totals().live_bytes(), 100u);  // the rest is intact
}

// The goodbye said exit(5) already: the report stands as written (the same
// file, not a rewritten one: `leakscope run` waits for neither).
TEST_F(ServerTest, RecordExitLeavesAReportThatSaidItAlready) {
  std::string stream = GoodStream(77, "/bin/app", /*goodbye=*/false);
  wire::Message bye;
  bye.mutable_goodbye()->set_how("exit");
  bye.mutable_goodbye()->set_has_exit_status(true);
  bye.mutable_goodbye()->set_exit_status(5);
  Send(stream + Frame(bye));
  auto done = server->WaitForReport(77, 20s);
  ASSERT_TRUE(done);
  struct stat before {};
  ASSERT_EQ(stat(done->report_path.c_str(), &before), 0);
  server->RecordExit(77, 5 << 8);  // exit(5)
  struct stat after {};
  ASSERT_EQ(stat(done->report_path.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  report::Report r = ReadReport(done->report_path);
  EXPECT_EQ(r.process().end(), report::Process::EXITED);
  EXPECT_EQ(r.process().exit_status(), 5);
}

TEST_F(ServerTest, RecordExitBeforeTheStreamEnds) {
  int fd = Connect(socket_path);
  std::string stream = GoodStream(99, "/bin/app", /*goodbye=*/false);
  WriteAll(fd, stream);
  server->RecordExit(99, SIGSEGV);  // killed by SIGSEGV
  close(fd);
  auto done = server->WaitForReport(99, 20s);
  ASSERT_TRUE(done);
  report::Report r = ReadReport(done->report_path);
  EXPECT_EQ(r.process().end(), report::Process::SIGNALED);
  EXPECT_EQ(r.process().signal(), SIGSEGV);
}

TEST_F(ServerTest, WaitForAPidThatNeverConnectedReturnsAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(server->WaitForReport(12345, 60s));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 30s);  // not the timeout
}

TEST_F(ServerTest, SilentConnectionWritesNoReport) {
  Send("");
  server->SetOnReport([](const FinishedProcess& p) { ADD_FAILURE() << p.report_path; });
  StopServer();
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 0);  // socket gone too
}

// Not a process (bad magic): nothing to report, no file (tests/security has
// the other ways of never saying hello).
TEST_F(ServerTest, StreamWithoutHelloWritesNoReport) {
  ::testing::internal::CaptureStderr();
  Send("GARBAGE!");
  server->SetOnReport([](const FinishedProcess& p) { ADD_FAILURE() << p.report_path; });
  EXPECT_FALSE(server->WaitForReport(static_cast<uint32_t>(getpid()), 20s));
  StopServer();
  EXPECT_EQ(::testing::internal::GetCapturedStderr(),
            "leakscoped: closing stream of pid " + std::to_string(getpid()) +
                " (unknown): not a leakscope stream (bad magic)\n");
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir), {}), 0);
}

TEST_F(ServerTest, StopReportsOpenStreamsAsRunning) {
  int fd = Connect(socket_path);
  WriteAll(fd, GoodStream(321, "/bin/daemon", /*goodbye=*/false));
  std::vector<FinishedProcess> reports;
  server->SetOnReport([&](const FinishedProcess& p) { reports.push_back(p); });
  StopServer();  // drains what was written, then reports the open stream
  close(fd);
  ASSERT_EQ(reports.size(), 1u);
  report::Report r = ReadReport(reports[0].report_path);
  EXPECT_EQ(r.process().end(), report::Process::RUNNING);
  EXPECT_FALSE(r.final());
  EXPECT_EQ(r.totals().live_bytes(), 100u);
  EXPECT_FALSE(server->WaitForReport(9999, 60s));  // loop gone: no waiting
}

// exec() keeps the pid: each image of the process opens its own stream. The
// pid's report is the newest image's, and it alone gets the exit status.
TEST_F(ServerTest, ExecChainReportsTheNewestImage) {
  int older = Connect(socket_path);
  int newer = Connect(socket_path);
  WriteAll(older, GoodStream(500, "/bin/sh", /*goodbye=*/false));
  WriteAll(newer, GoodStream(500, "/bin/sh", /*goodbye=*/false, "exec'd"));
  server->RecordExit(500, 7 << 8);
  close(newer);
  close(older);
  auto done = server->WaitForReport(500, 20s);
  ASSERT_TRUE(done);
  report::Report r = ReadReport(done->report_path);
  ASSERT_EQ(r.process().argv_size(), 2);
  EXPECT_EQ(r.process().argv(1), "exec'd");
  EXPECT_EQ(r.process().end(), report::Process::EXITED);
  EXPECT_EQ(r.process().exit_status(), 7);
  // The older image keeps its own file: "sh.500.lsr" and "sh.500.2.lsr", in closing order.
  const std::string first = dir + "/sh.500.lsr", second = dir + "/sh.500.2.lsr";
  ASSERT_TRUE(done->report_path == first || done->report_path == second) << done->report_path;
  report::Report o = ReadReport(done->report_path == first ? second : first);
  EXPECT_EQ(o.process().argv_size(), 1);
  EXPECT_EQ(o.process().end(), report::Process::DISCONNECTED);
}

TEST_F(ServerTest, ANewerImageReadLateTakesTheExitStatus) {
  server->RecordExit(600, SIGABRT);
  Send(GoodStream(600, "/bin/sh", /*goodbye=*/false));
  auto first = server->WaitForReport(600, 20s);
  ASSERT_TRUE(first);
  EXPECT_EQ(ReadReport(first->report_path).process().end(), report::Process::SIGNALED);
  Send(GoodStream(600, "/bin/sh", /*goodbye=*/false, "exec'd"));
  auto second = server->WaitForReport(600, 20s);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->report_path, dir + "/sh.600.2.lsr");
  report::Report r = ReadReport(second->report_path);
  EXPECT_EQ(r.process().end(), report::Process::SIGNALED);
  EXPECT_EQ(r.process().signal(), SIGABRT);
  report::Report o = ReadReport(first->report_path);  // back to how its own stream ended
  EXPECT_EQ(o.process().end(), report::Process::DISCONNECTED);
  EXPECT_EQ(o.process().signal(), 0);
}

// Stop() while a process is still writing: it takes what was queued, then
// reports the stream as running. (Whether an unbounded drain would livelock
// depends on scheduling, so this checks the outcome, not the livelock.)
TEST_F(ServerTest, StopReturnsWhileAStreamKeepsWriting) {
  wire::Message first = HelloMessage(4040, "/bin/busy");
  AddStack(&first, 1, {0x1001});
  wire::Message churn;
  EventsBuilder events;
  uint64_t address = 1;  // scattered addresses: bytes on the wire track events
  for (int i = 0; i < 10000; ++i) {
    address = address * 6364136223846793005ull + 1442695040888963407ull;
    events.Alloc(address, 32, 1).Free(address);
  }
  *churn.mutable_events() = events.Build(1);
  const std::string frame = Frame(churn);
  int fd = Connect(socket_path);
  WriteAll(fd, StreamHeader() + Frame(first));
  std::mutex mu;
  std::condition_variable cv;
  size_t written = 0;
  std::thread writer([&] {
    while (true) {
      ssize_t n = send(fd, frame.data(), frame.size(), MSG_NOSIGNAL);
      if (n <= 0) return;  // the server closed the stream
      std::lock_guard<std::mutex> lock(mu);
      written += static_cast<size_t>(n);
      cv.notify_all();
    }
  });
  {
    // More than a socket buffer holds: the server has been reading.
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return written > (1u << 20); });
  }
  std::vector<FinishedProcess> reports;
  server->SetOnReport([&](const FinishedProcess& p) { reports.push_back(p); });
  StopServer();
  writer.join();
  close(fd);
  ASSERT_EQ(reports.size(), 1u);
  report::Report r = ReadReport(reports[0].report_path);
  EXPECT_EQ(r.process().end(), report::Process::RUNNING);
  EXPECT_GT(r.totals().allocations(), 0u);
  EXPECT_EQ(r.totals().allocations(), r.totals().frees());
}

TEST(ServerListen, ReplacesAStaleSocketButNoOtherFile) {
  char tmpl[] = "/tmp/leakscope-listen-test.XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  std::string error;
  {
    Server first({dir + "/sock", dir});
    ASSERT_TRUE(first.Listen(&error)) << error;
  }  // never ran: leaves no socket, but create a stale one by hand below
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, (dir + "/sock").c_str(), sizeof addr.sun_path - 1);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  close(fd);  // the file stays: a stale socket
  Server second({dir + "/sock", dir});
  EXPECT_TRUE(second.Listen(&error)) << error;

  std::ofstream(dir + "/file") << "precious";
  Server third({dir + "/file", dir});
  EXPECT_FALSE(third.Listen(&error));
  EXPECT_EQ(error, dir + "/file: exists and is not a socket");
  Server fourth({std::string(200, 'x'), dir});
  EXPECT_FALSE(fourth.Listen(&error));
  EXPECT_EQ(error, "socket path '" + std::string(200, 'x') + "' is empty or too long");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace leakscope::collector
