// Growth suspects from a real program under the real shim: a steadily
// growing store, a sawtooth buffer and an LRU cache that plateaus
// (programs/growth_patterns.cc); the store must be the only suspect.
#include <gtest/gtest.h>
#include <spawn.h>
#include <sys/wait.h>

#include <set>
#include <thread>

#include "daemon_test_util.h"
#include "server.h"

extern char** environ;

namespace leakscope::collector {
namespace {

using namespace std::chrono_literals;

std::string InnermostFunction(const report::Report& r, uint32_t site) {
  return r.frames(r.sites(site).frames(0)).function();
}

TEST(GrowthSuspects, RealProgramOnlyTheGrowingStoreIsASuspect) {
  const std::string dir = testing::MakeTempDir("leakscope-growth-test");
  Server server(ServerOptions(dir + "/sock", dir));
  std::string error;
  ASSERT_TRUE(server.Listen(&error)) << error;
  std::thread loop([&] { server.Run(); });

  std::vector<std::string> env = {"LD_PRELOAD=" SHIM_PATH, "LEAKSCOPE_SAMPLE_INTERVAL=1",
                                  "LEAKSCOPE_SOCKET=" + dir + "/sock"};
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  char* argv[] = {const_cast<char*>(GROWTH_PATTERNS_PATH), nullptr};
  pid_t pid;
  ASSERT_EQ(posix_spawn(&pid, argv[0], nullptr, nullptr, argv, envp.data()), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  auto done = server.WaitForReport(static_cast<uint32_t>(pid), 20s);
  server.Stop();
  loop.join();
  ASSERT_TRUE(done);
  report::Report r = testing::ReadReport(done->report_path);
  std::filesystem::remove_all(dir);

  // About 3 s at 100 ms: a timeline of ~30 points, with the three sites in it.
  ASSERT_GE(r.timeline_size(), 20);
  std::set<std::string> tracked;
  for (const auto& p : r.timeline())
    for (const auto& s : p.top_sites()) tracked.insert(InnermostFunction(r, s.site()));
  for (const char* f : {"GrowStore", "SawtoothAlloc", "CacheInsert"}) {
    bool seen = false;
    for (const auto& t : tracked)
      seen |= t.rfind(std::string("(anonymous namespace)::") + f, 0) == 0;
    EXPECT_TRUE(seen) << f;
  }

  ASSERT_EQ(r.growth_suspects_size(), 1);
  const report::GrowthSuspect& g = r.growth_suspects(0);
  EXPECT_EQ(InnermostFunction(r, g.site()), "(anonymous namespace)::GrowStore()");
  EXPECT_EQ(r.sites(g.site()).live_bytes(), 300u * 1024);
  EXPECT_GT(g.confidence(), 0.9);
  // Its rate is the store's growth over the timeline's span, within 20%.
  const double hours =
      (r.timeline(r.timeline_size() - 1).time_ns() - r.timeline(0).time_ns()) / 3.6e12;
  uint64_t first = 0;
  for (const auto& s : r.timeline(0).top_sites())
    if (s.site() == g.site()) first = s.live_bytes();
  const double expected = (300.0 * 1024 - first) / hours;
  EXPECT_NEAR(g.bytes_per_hour(), expected, 0.2 * expected);
}

}  // namespace
}  // namespace leakscope::collector
