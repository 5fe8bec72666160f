// The Server's daemon features, in-process: snapshots (on request, above a
// size, on an interval, pruned by keep), /metrics text, refused peers and
// per-stream limits. Reports are read back and checked exactly.
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>

#include "daemon_test_util.h"
#include "server.h"
#include "wire_test_encoder.h"

namespace leakscope::collector {
namespace {

using namespace std::chrono_literals;
using testing::AddStack;
using testing::ConnectUnix;
using testing::EventsBuilder;
using testing::FilesWith;
using testing::Frame;
using testing::HelloMessage;
using testing::ReadReport;
using testing::StreamHeader;
using testing::WaitFor;
using testing::WriteAll;

// hello + one stack + allocations of `sizes` at 0x1000, 0x2000...
std::string Start(uint32_t pid, const std::vector<uint64_t>& sizes, uint64_t time_ns = 1) {
  wire::Message m = HelloMessage(pid, "/usr/bin/daemon-test");
  AddStack(&m, 1, {0x1001});
  EventsBuilder e;
  for (size_t i = 0; i < sizes.size(); ++i) e.Alloc(0x1000 * (i + 1), sizes[i], 1);
  *m.mutable_events() = e.Build(time_ns);
  return StreamHeader() + Frame(m);
}

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override { dir = testing::MakeTempDir("leakscope-daemon-test"); }
  void TearDown() override {
    if (loop.joinable()) {
      server->Stop();
      loop.join();
    }
    for (int fd : fds) close(fd);
    std::filesystem::remove_all(dir);
  }
  void StartServer(ServerOptions options) {
    options.socket_path = dir + "/sock";
    options.output_dir = dir;
    options.metrics = true;  // WaitLive() watches it
    server = std::make_unique<Server>(options);
    std::string error;
    ASSERT_TRUE(server->Listen(&error)) << error;
    server->SetOnSnapshot([this](const std::string& path) {
      std::lock_guard<std::mutex> lock(mu);
      snapshots.push_back(path);
      changed.notify_all();
    });
    loop = std::thread([this] { server->Run(); });
  }
  int Open(const std::string& stream) {
    int fd = ConnectUnix(dir + "/sock");
    WriteAll(fd, stream);
    fds.push_back(fd);
    return fd;
  }
  bool WaitSnapshots(size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mu);
    return changed.wait_for(lock, timeout, [&] { return snapshots.size() >= n; });
  }
  // The loop has read the stream once /metrics shows its live bytes.
  bool WaitLive(uint32_t pid, uint64_t bytes) {
    const std::string line = "leakscope_live_bytes{pid=\"" + std::to_string(pid) +
                             "\",exe=\"/usr/bin/daemon-test\",service=\"daemon-test\"} " +
                             std::to_string(bytes) + "\n";
    return WaitFor([&] { return server->MetricsText().find(line) != std::string::npos; }, 10s);
  }

  std::string dir;
  std::unique_ptr<Server> server;
  std::thread loop;
  std::vector<int> fds;
  std::mutex mu;
  std::condition_variable changed;
  std::vector<std::string> snapshots;
};

TEST_F(DaemonTest, SnapshotOnRequestIsARunningReportAndOldOnesArePruned) {
  ServerOptions o;
  o.keep_snapshots = 2;
  StartServer(o);
  Open(Start(501, {100, 28}));
  ASSERT_TRUE(WaitLive(501, 128));
  for (size_t n = 1; n <= 3; ++n) {
    server->RequestSnapshot();
    ASSERT_TRUE(WaitSnapshots(n));
  }
  std::vector<std::string> taken;
  {
    std::lock_guard<std::mutex> lock(mu);
    taken = snapshots;
  }
  ASSERT_EQ(taken.size(), 3u);
  for (const auto& path : taken)
    EXPECT_EQ(path.rfind(dir + "/daemon-test.501.snap-", 0), 0u) << path;
  // --keep 2: the first is gone, the two newest stay.
  EXPECT_FALSE(std::filesystem::exists(taken[0]));
  std::vector<std::string> newest = {taken[1], taken[2]};
  std::sort(newest.begin(), newest.end());
  EXPECT_EQ(FilesWith(dir, ".snap-"), newest);
  report::Report r = ReadReport(taken[2]);
  EXPECT_FALSE(r.final());
  EXPECT_EQ(r.process().end(), report::Process::RUNNING);
  EXPECT_EQ(r.totals().live_bytes(), 128u);
  EXPECT_EQ(r.totals().live_allocations(), 2u);
  ASSERT_EQ(r.timeline_size(), 1);
  EXPECT_EQ(r.timeline(0).live_bytes(), 128u);
}

TEST_F(DaemonTest, DumpAboveFiresOnceWhenLiveBytesFirstExceedIt) {
  ServerOptions o;
  o.dump_above_bytes = 1000;
  StartServer(o);
  int fd = Open(Start(502, {600}));
  ASSERT_TRUE(WaitLive(502, 600));
  wire::Message m;
  *m.mutable_events() = EventsBuilder().Alloc(0x9000, 401, 1).Build(2);  // 1001 > 1000
  WriteAll(fd, Frame(m));
  ASSERT_TRUE(WaitSnapshots(1));
  *m.mutable_events() = EventsBuilder().Alloc(0xa000, 5000, 1).Build(3);
  WriteAll(fd, Frame(m));
  ASSERT_TRUE(WaitLive(502, 6001));
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(snapshots.size(), 1u);
  EXPECT_EQ(ReadReport(snapshots[0]).totals().live_bytes(), 1001u);
}

TEST_F(DaemonTest, SnapshotsOnAnInterval) {
  ServerOptions o;
  o.snapshot_interval_s = 1;
  StartServer(o);
  Open(Start(503, {10}));
  const auto started = std::chrono::steady_clock::now();
  ASSERT_TRUE(WaitSnapshots(2, 10s));
  // Two intervals of one second each, at the tick's 250 ms resolution.
  EXPECT_GE(std::chrono::steady_clock::now() - started, 1750ms);
}

TEST_F(DaemonTest, MetricsTextPerProcessAndTopSites) {
  ServerOptions o;
  o.metrics_top_sites = 1;
  StartServer(o);
  std::string stream = Start(504, {1000, 24});
  wire::Message m;
  AddStack(&m, 2, {0x2001});
  *m.mutable_events() = EventsBuilder().Alloc(0x7000, 50, 2).Free(0x2000).Build(200'000'000);
  m.mutable_stats()->set_rss_bytes(1 << 20);
  m.mutable_stats()->set_dropped_events(7);
  m.mutable_stats()->set_time_ns(200'000'000);
  Open(stream + Frame(m));
  ASSERT_TRUE(WaitLive(504, 1050));
  const std::string text = server->MetricsText();
  const std::string labels = "{pid=\"504\",exe=\"/usr/bin/daemon-test\",service=\"daemon-test\"} ";
  // Timeline points at 1 ns and 200 ms: 1 allocation and 1 free in between.
  char rate[64];
  std::snprintf(rate, sizeof rate, "%.17g", 1 / ((200'000'000 - 1) / 1e9));
  for (const std::string& line : std::vector<std::string>{
           "leakscope_processes 1", "leakscope_live_allocations" + labels + "2",
           "leakscope_allocations_total" + labels + "3", "leakscope_frees_total" + labels + "1",
           "leakscope_dropped_events_total" + labels + "7",
           "leakscope_rss_bytes" + labels + "1048576", "leakscope_allocation_rate" + labels + rate,
           "leakscope_free_rate" + labels + rate, "# TYPE leakscope_site_live_bytes gauge"})
    EXPECT_NE(text.find(line + "\n"), std::string::npos) << line << "\n" << text;
  // One site series (top 1): stack 1's 1000 bytes, labelled by its frame.
  size_t n = 0;
  for (size_t p = 0; (p = text.find("leakscope_site_live_bytes{", p)) != std::string::npos; ++p)
    ++n;
  EXPECT_EQ(n, 1u);
  EXPECT_NE(text.find("\"} 1000\n", text.find("leakscope_site_live_bytes{")), std::string::npos);
}

// What survives a restart labels every series: the daemon's --label, the
// process's own LEAKSCOPE_LABELS (replacing the daemon's of the same name,
// `service` replacing the exe's name), its start time; and its snapshots.
TEST_F(DaemonTest, MetricsLabelsStartTimeAndSnapshots) {
  ServerOptions o;
  o.metrics_labels = {{"env", "prod"}, {"team", "infra"}};
  StartServer(o);
  wire::Message m = HelloMessage(506, "/usr/bin/python3");
  m.mutable_hello()->set_labels("team=pay,service=checkout,pid=1");
  AddStack(&m, 1, {0x1001});
  *m.mutable_events() = EventsBuilder().Alloc(0x1000, 64, 1).Build(1);
  Open(StreamHeader() + Frame(m));
  const std::string labels =
      "{pid=\"506\",exe=\"/usr/bin/python3\",service=\"checkout\",env=\"prod\",team=\"pay\"} ";
  ASSERT_TRUE(WaitFor(
      [&] {
        return server->MetricsText().find("leakscope_live_bytes" + labels + "64\n") !=
               std::string::npos;
      },
      10s))
      << server->MetricsText();
  std::string text = server->MetricsText();
  EXPECT_NE(text.find("leakscope_process_start_time_seconds" + labels + "1700000000\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("leakscope_snapshots_total" + labels + "0\n"), std::string::npos) << text;
  for (const char* line : {"leakscope_up 1\n", "leakscope_streams 1\n",
                           "leakscope_streams_total 1\n", "leakscope_processes 1\n"})
    EXPECT_NE(text.find(line), std::string::npos) << line << text;
  EXPECT_EQ(text.find("leakscope_last_snapshot_timestamp_seconds{"), std::string::npos) << text;
  // The daemon's own resident set (this test process's): over a MiB.
  const std::string rss = "\nleakscope_daemon_rss_bytes ";
  ASSERT_NE(text.find(rss), std::string::npos);
  EXPECT_GT(std::stoull(text.substr(text.find(rss) + rss.size())), 1u << 20);
  server->RequestSnapshot();
  ASSERT_TRUE(WaitSnapshots(1));
  ASSERT_TRUE(WaitFor(
      [&] {
        return server->MetricsText().find("leakscope_snapshots_total" + labels + "1\n") !=
               std::string::npos;
      },
      10s));
  text = server->MetricsText();
  const size_t at = text.find("leakscope_last_snapshot_timestamp_seconds" + labels);
  ASSERT_NE(at, std::string::npos) << text;
  const double when = std::stod(text.substr(at + text.find(' ', at) - at + 1));
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_LE(when, now);
  EXPECT_GT(when, now - 60);
}

TEST_F(DaemonTest, PeerWithAnotherUidIsRefused) {
  ServerOptions o;
  o.allowed_uids = {geteuid() + 1};
  StartServer(o);
  int fd = testing::ConnectUnix(dir + "/sock");
  fds.push_back(fd);
  // The daemon closes it unread: writing on eventually fails, reading sees EOF.
  char c;
  EXPECT_EQ(read(fd, &c, 1), 0);
  EXPECT_FALSE(server->WaitForReport(505, 5s));
  EXPECT_TRUE(FilesWith(dir, ".lsr").empty());
}

TEST_F(DaemonTest, StreamBreakingALimitIsClosedWithItsReportAndOthersGoOn) {
  ServerOptions o;
  o.limits.max_stacks = 2;
  o.max_live_allocations = 3;
  StartServer(o);
  // Too many stacks: frame 2 defines a third.
  std::string many_stacks = Start(506, {100});
  wire::Message m;
  AddStack(&m, 2, {0x2001});
  AddStack(&m, 3, {0x3001});
  many_stacks += Frame(m);
  // Too many live allocations: four.
  std::string many_live = Start(507, {1, 2, 3, 4});
  int good = Open(Start(508, {42}));
  Open(many_stacks);
  Open(many_live);
  auto stacks = server->WaitForReport(506, 10s), live = server->WaitForReport(507, 10s);
  ASSERT_TRUE(stacks && live);
  report::Report r = ReadReport(stacks->report_path);
  EXPECT_EQ(r.process().end(), report::Process::DISCONNECTED);
  EXPECT_EQ(r.totals().live_bytes(), 100u);  // what came before the bad frame
  EXPECT_EQ(r.process().cut_short(), "frame 2: more than 2 distinct stacks");
  const report::Report l = ReadReport(live->report_path);
  EXPECT_EQ(l.totals().live_bytes(), 10u);
  EXPECT_EQ(l.process().cut_short(), "more than 3 live allocations (memory budget)");
  // The good stream is still open and served.
  wire::Message bye;
  bye.mutable_goodbye()->set_how("exit");
  WriteAll(good, Frame(bye));
  close(good);
  fds.erase(std::find(fds.begin(), fds.end(), good));
  auto ok = server->WaitForReport(508, 10s);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ReadReport(ok->report_path).process().end(), report::Process::ENDED);
}

}  // namespace
}  // namespace leakscope::collector
