// A forked child's stream at the server: seeded with what its parent had at
// the ForkMarker, whichever of the two streams is read first; and without it
// when the parent's stream ends with no marker. Streams are written to a real
// socket; WaitForReport() of a pid that never connected is the barrier that
// says "everything written so far has been read".
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <mutex>
#include <thread>

#include "daemon_test_util.h"
#include "report_file.h"
#include "server.h"
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

constexpr uint32_t kParent = 100, kChild = 101, kNobody = 999;

int Connect(const std::string& path) {
  return testing::ConnectUnix(path);
}
using testing::WriteAll;

// The parent before the fork: 0x10 and 0x20 (100 B each) from stack 1, 0x30
// (50 B) from stack 2.
std::string ParentStart() {
  wire::Message m = HelloMessage(kParent, "/bin/parent");
  AddStack(&m, 1, {0x1001});
  AddStack(&m, 2, {0x2001});
  *m.mutable_events() =
      EventsBuilder().Alloc(0x10, 100, 1).Alloc(0x20, 100, 1).Alloc(0x30, 50, 2).Build(5);
  return StreamHeader() + Frame(m);
}

std::string Marker(uint64_t fork_id) {
  wire::Message m;
  m.mutable_fork_marker()->set_fork_id(fork_id);
  return Frame(m);
}

// The parent after the fork: frees 0x30 (the child's copy stays live) and ends.
std::string ParentEnd() {
  wire::Message m;
  *m.mutable_events() = EventsBuilder().Free(0x30).Build(7);
  m.mutable_goodbye()->set_how("exit");
  return Frame(m);
}

// The child: frees inherited 0x10, allocates 200 B from its own stack 3 and
// 10 B from the parent's stack 1 (an id its stream never defines).
std::string ChildStream(uint32_t pid = kChild) {
  wire::Message m = HelloMessage(pid, "/bin/parent");
  wire::Hello* h = m.mutable_hello();
  h->set_ppid(kParent);
  h->set_forked(true);
  h->set_parent_pid(kParent);
  h->set_parent_start_time_unix_ns(HelloMessage(kParent, "").hello().start_time_unix_ns());
  h->set_fork_id(1);
  h->set_start_time_unix_ns(h->start_time_unix_ns() + 5000);
  AddStack(&m, 3, {0x3001});
  *m.mutable_events() = EventsBuilder().Free(0x10).Alloc(0x40, 200, 3).Alloc(0x50, 10, 1).Build(3);
  wire::Message bye;
  bye.mutable_goodbye()->set_how("exit");
  return StreamHeader() + Frame(m) + Frame(bye);
}

class ForkInheritance : public testing::ServerFixture {
 protected:
  void BeforeRun() override {
    server->SetOnReport([this](const FinishedProcess& p) {
      std::lock_guard<std::mutex> lock(mu);
      reported.push_back(p.pid);
    });
  }
  // Returns once the server has read everything written so far.
  void Barrier() { EXPECT_FALSE(server->WaitForReport(kNobody, 20s)); }
  // The parent's stream is open without its marker; the child's whole stream
  // has been read. Returns the parent's connection.
  int ParentOpenChildHeld() {
    const int parent = Connect(socket_path);
    WriteAll(parent, ParentStart());
    Barrier();
    const int child = Connect(socket_path);
    WriteAll(child, ChildStream());
    close(child);
    Barrier();
    return parent;
  }
  bool Reported(uint32_t pid) {
    std::lock_guard<std::mutex> lock(mu);
    return std::find(reported.begin(), reported.end(), pid) != reported.end();
  }
  report::Report ReportOf(uint32_t pid) {
    auto done = server->WaitForReport(pid, 20s);
    EXPECT_TRUE(done);
    return done ? ReadReport(done->report_path) : report::Report();
  }

  std::mutex mu;
  std::vector<uint32_t> reported;
};

const report::Site* SiteAt(const report::Report& r, const std::string& function) {
  for (const report::Site& s : r.sites())
    if (s.frames_size() && r.frames(static_cast<int>(s.frames(0))).function() == function)
      return &s;
  return nullptr;
}

void ExpectInherited(const report::Report& r) {
  EXPECT_EQ(r.process().inheritance(), report::Process::INHERITED);
  EXPECT_EQ(r.process().parent_pid(), kParent);
  EXPECT_EQ(r.totals().inherited_allocations(), 3u);
  EXPECT_EQ(r.totals().inherited_bytes(), 250u);
  EXPECT_EQ(r.totals().inherited_live_allocations(), 2u);
  EXPECT_EQ(r.totals().inherited_live_bytes(), 150u);
  EXPECT_EQ(r.totals().unmatched_frees(), 0u);
  EXPECT_EQ(r.totals().allocations(), 2u);  // its own only
  EXPECT_EQ(r.totals().allocated_bytes(), 210u);
  EXPECT_EQ(r.totals().frees(), 1u);
  EXPECT_EQ(r.totals().live_allocations(), 4u);
  EXPECT_EQ(r.totals().live_bytes(), 360u);
  ASSERT_EQ(r.sites_size(), 3);
  const report::Site* own = SiteAt(r, "0x3000");
  const report::Site* shared = SiteAt(r, "0x1000");
  const report::Site* inherited = SiteAt(r, "0x2000");
  ASSERT_TRUE(own && shared && inherited);
  EXPECT_EQ(own->live_bytes(), 200u);
  EXPECT_EQ(own->allocations(), 1u);
  EXPECT_EQ(own->inherited_live_allocations(), 0u);
  // 0x20 inherited, 0x50 the child's own with the parent's stack id.
  EXPECT_EQ(shared->live_bytes(), 110u);
  EXPECT_EQ(shared->live_allocations(), 2u);
  EXPECT_EQ(shared->allocations(), 1u);
  EXPECT_EQ(shared->inherited_live_allocations(), 1u);
  EXPECT_EQ(shared->inherited_live_bytes(), 100u);
  // Freed by the parent after the fork, still live in the child.
  EXPECT_EQ(inherited->live_bytes(), 50u);
  EXPECT_EQ(inherited->allocations(), 0u);
  EXPECT_EQ(inherited->inherited_live_allocations(), 1u);
}

TEST_F(ForkInheritance, TheMarkerReadFirstSeedsTheChild) {
  const int parent = Connect(socket_path);
  WriteAll(parent, ParentStart() + Marker(1));
  Barrier();
  const int child = Connect(socket_path);
  WriteAll(child, ChildStream());
  close(child);
  ExpectInherited(ReportOf(kChild));
  WriteAll(parent, ParentEnd());
  close(parent);
  const report::Report p = ReportOf(kParent);
  EXPECT_EQ(p.process().inheritance(), report::Process::NOT_FORKED);
  EXPECT_EQ(p.totals().allocations(), 3u);
  EXPECT_EQ(p.totals().live_bytes(), 200u);
  EXPECT_EQ(p.totals().inherited_allocations(), 0u);
}

TEST_F(ForkInheritance, AChildReadBeforeTheMarkerWaitsForIt) {
  const int parent = ParentOpenChildHeld();
  // Held: its whole stream has arrived, but nothing is applied or reported.
  EXPECT_FALSE(Reported(kChild));
  WriteAll(parent, Marker(1) + ParentEnd());
  close(parent);
  ExpectInherited(ReportOf(kChild));
  EXPECT_EQ(ReportOf(kParent).totals().live_bytes(), 200u);
}

TEST_F(ForkInheritance, WithoutAMarkerTheChildGoesOnInheritingNothing) {
  const int parent = ParentOpenChildHeld();
  EXPECT_FALSE(Reported(kChild));
  WriteAll(parent, ParentEnd());
  close(parent);
  const report::Report r = ReportOf(kChild);
  EXPECT_EQ(r.process().inheritance(), report::Process::INHERITANCE_UNAVAILABLE);
  EXPECT_EQ(r.process().parent_pid(), kParent);
  EXPECT_EQ(r.totals().inherited_allocations(), 0u);
  EXPECT_EQ(r.totals().unmatched_frees(), 1u);
  EXPECT_EQ(r.totals().allocations(), 2u);
  EXPECT_EQ(r.totals().live_bytes(), 210u);
  // The allocation with the parent's stack id has no frames to show.
  ASSERT_EQ(r.sites_size(), 2);
  EXPECT_EQ(SiteAt(r, "0x3000")->live_bytes(), 200u);
  EXPECT_EQ(r.sites(1).frames_size(), 0);
  EXPECT_EQ(r.sites(1).live_bytes(), 10u);
}

TEST_F(ForkInheritance, AParentThatReconnectedDoesNotHoldAChildOfAnEarlierFork) {
  const int first = Connect(socket_path);
  WriteAll(first, ParentStart() + Marker(1));
  close(first);
  Barrier();
  // The same process's next stream, after a reconnect: markers up to 1 are behind it.
  wire::Message hello = HelloMessage(kParent, "/bin/parent");
  hello.mutable_hello()->set_fork_markers_sent(1);
  const int second = Connect(socket_path);
  WriteAll(second, StreamHeader() + Frame(hello));
  Barrier();
  const int child = Connect(socket_path);
  WriteAll(child, ChildStream());
  close(child);
  ExpectInherited(ReportOf(kChild));
  // A second claim of fork 1 finds no snapshot, and does not wait for the open stream.
  const int late = Connect(socket_path);
  WriteAll(late, ChildStream(102));
  close(late);
  const report::Report r = ReportOf(102);
  EXPECT_EQ(r.process().inheritance(), report::Process::INHERITANCE_UNAVAILABLE);
  close(second);
}

TEST_F(ForkInheritance, AChildWhoseParentIsGoneDoesNotWait) {
  const int child = Connect(socket_path);
  WriteAll(child, ChildStream());
  close(child);
  const report::Report r = ReportOf(kChild);
  EXPECT_EQ(r.process().inheritance(), report::Process::INHERITANCE_UNAVAILABLE);
  EXPECT_EQ(r.totals().unmatched_frees(), 1u);
}

}  // namespace
}  // namespace leakscope::collector
