// A real scan (collector/reachability_scan.h) of a forked child: ptrace stop,
// roots from /proc/PID/maps, registers and TLS, process_vm_readv, and the
// child running again afterwards.
#include "reachability_scan.h"

#include <gtest/gtest.h>
#include <link.h>
#include <linux/futex.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>

#include "drain_progress.h"

namespace leakscope::collector {
namespace {

void* g_held;  // a global (.bss) root
thread_local void* t_held;

struct Pipes {
  int to_parent[2], to_child[2];
};

// Allocates on a thread that is gone before the scan, so no stale copy of
// the lost block's address stays on a stack that is scanned.
void* AllocateLost(void* out) {
  uint64_t* addresses = static_cast<uint64_t*>(out);
  addresses[1] = reinterpret_cast<uint64_t>(std::malloc(48));
  addresses[1] ^= 0x5555;  // not a pointer while it waits to be sent
  addresses[2] = reinterpret_cast<uint64_t>(t_held = std::malloc(16));  // this thread's TLS
  return nullptr;
}

[[noreturn]] void Child(Pipes p) {
  close(p.to_parent[0]);
  close(p.to_child[1]);
  g_held = std::malloc(32);
  static uint64_t addresses[4];
  pthread_t t;
  pthread_create(&t, nullptr, AllocateLost, addresses);
  pthread_join(t, nullptr);
  t_held = std::malloc(24);
  addresses[0] = reinterpret_cast<uint64_t>(g_held);
  addresses[1] ^= 0x5555;
  addresses[3] = reinterpret_cast<uint64_t>(t_held);
  if (write(p.to_parent[1], addresses, sizeof addresses) != sizeof addresses) _exit(2);
  addresses[1] = addresses[2] = 0;
  char c = 'r';  // ready: the only copies of the lost addresses are gone
  if (write(p.to_parent[1], &c, 1) != 1) _exit(2);
  while (read(p.to_child[0], &c, 1) == 1)  // echo: still running
    if (write(p.to_parent[1], &c, 1) != 1) _exit(3);
  _exit(0);
}

// As the shim lists them (preload/module_map.cc): the link map.
std::vector<LoadedModule> Modules() {
  std::vector<LoadedModule> out;
  dl_iterate_phdr(
      [](dl_phdr_info* info, size_t, void* data) {
        char exe[4096] = {};
        std::string path = info->dlpi_name ? info->dlpi_name : "";
        if (path.empty() && readlink("/proc/self/exe", exe, sizeof exe - 1) > 0) path = exe;
        static_cast<std::vector<LoadedModule>*>(data)->push_back({path, info->dlpi_addr});
        return 0;
      },
      &out);
  return out;
}

char State(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  std::getline(f, s);
  return s[s.rfind(')') + 2];
}

TEST(ReachabilityScan, ForkedChildGlobalTlsAndLostBlocksThenRunsOn) {
  Pipes p;
  ASSERT_EQ(pipe(p.to_parent), 0);
  ASSERT_EQ(pipe(p.to_child), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) Child(p);
  close(p.to_parent[1]);
  close(p.to_child[0]);
  uint64_t a[4];
  ASSERT_EQ(read(p.to_parent[0], a, sizeof a), ssize_t(sizeof a));
  char ready;
  ASSERT_EQ(read(p.to_parent[0], &ready, 1), 1);
  // The 16-byte block's only pointer was the exited thread's TLS: lost.
  const ReachabilityScan scan =
      ScanProcess(pid, Modules(), {{a[0], 32, 0}, {a[1], 48, 1}, {a[2], 16, 2}, {a[3], 24, 3}}, 10);
  ASSERT_TRUE(scan.ok) << scan.error;
  EXPECT_EQ(scan.threads, 1u);
  EXPECT_EQ(scan.blocks, 4u);
  Verdict v;
  ASSERT_TRUE(scan.VerdictOf(a[0], 5, &v));
  EXPECT_EQ(v, Verdict::kReachable);
  // Under ASan the child's blocks come from ASan's allocator, and build-asan
  // showed the lost ones reachable: its own bookkeeping, in its writable
  // segments, still points at them. The verdict is then not ours to test.
#if !defined(__SANITIZE_ADDRESS__)
  ASSERT_TRUE(scan.VerdictOf(a[1], 5, &v));
  EXPECT_EQ(v, Verdict::kDefinitelyLost);
  ASSERT_TRUE(scan.VerdictOf(a[2], 5, &v));
  EXPECT_EQ(v, Verdict::kDefinitelyLost);
#endif
  ASSERT_TRUE(scan.VerdictOf(a[3], 5, &v));
  EXPECT_EQ(v, Verdict::kReachable);
  EXPECT_FALSE(scan.VerdictOf(a[0], 11, &v));  // allocated after the scan
  EXPECT_GT(scan.counts.root_bytes, 0u);
  EXPECT_NE(State(pid), 't');
  char c = 'x';
  ASSERT_EQ(write(p.to_child[1], &c, 1), 1);
  ASSERT_EQ(read(p.to_parent[0], &c, 1), 1);
  close(p.to_child[1]);
  close(p.to_parent[0]);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(ReachabilityScan, NoSuchProcessIsOneLineAndNoResult) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) _exit(0);
  int status;
  waitpid(pid, &status, 0);
  const ReachabilityScan scan = ScanProcess(pid, {}, {{0x1000, 8, 0}}, 1);
  EXPECT_FALSE(scan.ok);
  EXPECT_EQ(scan.error.find("reachability: pid " + std::to_string(pid) + " cannot be stopped"), 0u)
      << scan.error;
  Verdict v;
  EXPECT_FALSE(scan.VerdictOf(0x1000, 1, &v));
}

// A stand-in for the shim (proto/drain_progress.h): a "drain" thread that
// makes a pass (its number written to the stream), then sleeps as the real
// one does between passes, in a futex, but for a minute; or, `in_futex`
// false, blocked in read(2), where nothing may wake it.
struct FakeShim {
  struct alignas(64) Words {
    uint64_t magic = wire::kDrainProgressMagic;
    std::atomic<uint64_t> drain_tid{0}, passes_begun{0}, passes_done{0};
  };
  static Words words;
  static int stream, block;
  static bool in_futex;

  static void* Drain(void*) {
    words.drain_tid.store(uint64_t(gettid()));
    std::atomic<uint32_t> wake{0};
    for (;;) {
      const uint64_t n = words.passes_begun.fetch_add(1) + 1;
      if (write(stream, &n, sizeof n) != sizeof n) _exit(4);
      words.passes_done.store(n);
      if (in_futex) {
        timespec minute{60, 0};
        syscall(SYS_futex, &wake, FUTEX_WAIT_PRIVATE, 0, &minute, nullptr, 0);
      } else {
        char c;
        if (read(block, &c, 1) != 1) _exit(0);
      }
    }
  }

  // Says the words' address once a pass was made, then echoes until EOF.
  [[noreturn]] static void Child(Pipes p, int stream_fd, bool futex) {
    close(p.to_parent[0]);
    close(p.to_child[1]);
    stream = stream_fd;
    in_futex = futex;
    int never[2];
    if (pipe(never) != 0) _exit(2);
    block = never[0];
    pthread_t t;
    pthread_create(&t, nullptr, Drain, nullptr);
    while (words.passes_done.load() == 0) sched_yield();
    const uint64_t address = reinterpret_cast<uint64_t>(&words);
    if (write(p.to_parent[1], &address, sizeof address) != sizeof address) _exit(2);
    char c;
    while (read(p.to_child[0], &c, 1) == 1)
      if (write(p.to_parent[1], &c, 1) != 1) _exit(3);
    _exit(0);
  }
};
FakeShim::Words FakeShim::words;
int FakeShim::stream = -1, FakeShim::block = -1;
bool FakeShim::in_futex = true;

// The stream as a scan sees it: each pass number read is an event applied.
class FakeSource : public ScanSource {
 public:
  explicit FakeSource(int fd) : fd_(fd) {}
  Shape Now() const override {
    Shape s;
    s.seq = last_pass;
    return s;
  }
  std::vector<ScanBlock> Blocks() const override { return {}; }
  bool CatchUp(int timeout_ms) override {
    pollfd p{fd_, POLLIN, 0};
    poll(&p, 1, timeout_ms);
    uint64_t n;
    while (recv(fd_, &n, sizeof n, MSG_DONTWAIT) == sizeof n) last_pass = n;
    return true;
  }
  std::string Hold(uint64_t bytes) override {
    held = bytes;
    return refuse;
  }
  uint64_t BehindBoundMs() const override { return 37; }

  uint64_t last_pass = 0;
  uint64_t held = 0;
  std::string refuse;

 private:
  int fd_;
};

class CatchUpTest : public ::testing::Test {
 protected:
  void Start(bool futex) {
    ASSERT_EQ(pipe(p_.to_parent), 0);
    ASSERT_EQ(pipe(p_.to_child), 0);
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      close(sv[0]);
      FakeShim::Child(p_, sv[1], futex);
    }
    close(sv[1]);
    stream_ = sv[0];
    close(p_.to_parent[1]);
    close(p_.to_child[0]);
    ASSERT_EQ(read(p_.to_parent[0], &address_, sizeof address_), ssize_t(sizeof address_));
  }
  // It runs on after the scan: it echoes.
  void ExpectRunsOn() {
    EXPECT_NE(State(pid_), 't');
    char c = 'x';
    ASSERT_EQ(write(p_.to_child[1], &c, 1), 1);
    ASSERT_EQ(read(p_.to_parent[0], &c, 1), 1);
  }
  void TearDown() override {
    if (pid_ <= 0) return;
    close(p_.to_child[1]);
    close(p_.to_parent[0]);
    close(stream_);
    int status = 0;
    ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  }
  Pipes p_;
  pid_t pid_ = 0;
  int stream_ = -1;
  uint64_t address_ = 0;
};

// The drain sleeps for a minute: the scan wakes it (EINTR for its futex),
// waits for its pass after the stop, and applies it before the scan.
TEST_F(CatchUpTest, WakesTheSleepingDrainAndAppliesItsPassBeforeScanning) {
  Start(/*futex=*/true);
  FakeSource source(stream_);
  DrainRef drain;
  drain.progress_address = address_;
  drain.wait_ms = 10000;  // the wake, not the deadline, must end the wait
  const ReachabilityScan scan = ScanProcess(pid_, {}, source, drain);
  ASSERT_TRUE(scan.ok) << scan.error;
  EXPECT_TRUE(scan.table_exact);
  EXPECT_EQ(scan.table_behind_ms, 0u);
  EXPECT_EQ(source.last_pass, 2u);  // the first before the scan, the second inside it
  EXPECT_EQ(scan.scan_seq, 2u);     // the table as caught up
  EXPECT_EQ(scan.threads, 2u);
  EXPECT_EQ(source.held, ScanMemoryBytes(0, 0));
  ExpectRunsOn();
}

// A drain that cannot pass (blocked elsewhere): the scan runs after the
// bounded wait, and says how far behind its table may be.
TEST_F(CatchUpTest, UnresponsiveDrainScansAfterTheWaitAndSaysHowStale) {
  Start(/*futex=*/false);
  FakeSource source(stream_);
  DrainRef drain;
  drain.progress_address = address_;
  drain.wait_ms = 50;
  const ReachabilityScan scan = ScanProcess(pid_, {}, source, drain);
  ASSERT_TRUE(scan.ok) << scan.error;
  EXPECT_FALSE(scan.table_exact);
  EXPECT_EQ(scan.table_behind_ms, 37u);
  EXPECT_GE(scan.catch_up_ns, 50'000'000u);
  EXPECT_EQ(source.last_pass, 1u);
  EXPECT_EQ(scan.threads, 2u);
  ExpectRunsOn();
}

// An older shim (no address) or a hostile one (an address of nothing, or
// of words that are not the drain's): no wait, the table as it is.
TEST_F(CatchUpTest, NoOrBadProgressAddressScansAtOnceAndSaysHowStale) {
  Start(/*futex=*/true);
  for (uint64_t address : {uint64_t(0), uint64_t(8), address_ + 8}) {
    FakeSource source(stream_);
    DrainRef drain;
    drain.progress_address = address;
    const ReachabilityScan scan = ScanProcess(pid_, {}, source, drain);
    ASSERT_TRUE(scan.ok) << scan.error;
    EXPECT_FALSE(scan.table_exact) << address;
    EXPECT_EQ(scan.table_behind_ms, 37u) << address;
    EXPECT_EQ(scan.catch_up_ns, 0u) << address;
    EXPECT_EQ(scan.threads, 2u) << address;
  }
  ExpectRunsOn();
}

// Its memory refused (the daemon's --max-memory): one line, nothing stopped.
TEST_F(CatchUpTest, ScanRefusedByTheBudgetIsOneLineAndStopsNothing) {
  Start(/*futex=*/true);
  FakeSource source(stream_);
  source.refuse = "the scan would take up to 9 MiB more, over the memory budget";
  DrainRef drain;
  drain.progress_address = address_;
  const ReachabilityScan scan = ScanProcess(pid_, {}, source, drain);
  EXPECT_FALSE(scan.ok);
  EXPECT_EQ(scan.error,
            "reachability: the scan would take up to 9 MiB more, over the memory budget: "
            "survivors only");
  EXPECT_EQ(scan.pause_ns, 0u);
  EXPECT_EQ(source.last_pass, 0u);
  ExpectRunsOn();
}

}  // namespace
}  // namespace leakscope::collector
