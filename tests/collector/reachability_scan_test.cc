// A real scan (collector/reachability_scan.h) of a forked child: ptrace stop,
// roots from /proc/PID/maps, registers and TLS, process_vm_readv, and the
// child running again afterwards.
#include "reachability_scan.h"

#include <gtest/gtest.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

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

}  // namespace
}  // namespace leakscope::collector
