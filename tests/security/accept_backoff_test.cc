// At its file descriptor limit leakscoped must not spin on accept(): before,
// the queued connection kept the listening socket readable and the loop
// called accept() again at once (97% of a core and 148 MB of log in 10 s).
// Now it stops polling the socket until a stream closes or 200 ms pass, and
// logs the failure at most once a second.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "hostile_client.h"
#include "logged_daemon.h"
#include "second_uid.h"
#include "wire_test_encoder.h"

namespace leakscope::security {
namespace {

using namespace std::chrono_literals;

TEST(AcceptBackoff, AtTheFdLimitTheDaemonNeitherSpinsNorFloodsItsLog) {
  LEAKSCOPE_SECOND_UID(who);
  // 32 descriptors: a few for the daemon itself, the rest for streams. A
  // long --frame-timeout: the silent connections stay until released.
  LoggedDaemon daemon(OpenTo(who, {"--frame-timeout", "600"}), 32);
  ASSERT_TRUE(daemon.ok()) << daemon.log();
  // Twice as many silent connections as the daemon can have descriptors.
  HeldConnections held(who, daemon.socket(), 64, "");
  ASSERT_EQ(held.connected(), 64u);
  ASSERT_TRUE(daemon.WaitForLog("leakscoped: accept: Too many open files", 60s)) << daemon.log();
  // The figure is the daemon's own CPU time over a window in which it has
  // nothing to do but wait; the window is not a synchronisation. Spinning,
  // it used all it could get of those 2 s (~200 ticks at 100 Hz, fewer on a
  // loaded machine but never near this bound); waiting, it wakes 4 times a
  // second for its timer and retries accept() 5 times a second.
  const uint64_t before = daemon.CpuTicks();
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(2s);
  const uint64_t used = daemon.CpuTicks() - before;
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
          .count();
  EXPECT_LE(used, 10u) << "ticks of CPU in a 2 s window at the fd limit (100 per second: 10 = 5%)";
  // One line a second at most (the window's seconds and the one before it).
  const std::string log = daemon.log();
  std::printf("at the fd limit: %llu ticks of CPU in %lld s; log %zu bytes, %zu accept lines\n",
              static_cast<unsigned long long>(used), static_cast<long long>(seconds), log.size(),
              LoggedDaemon::Count(log, "leakscoped: accept:"));
  EXPECT_LE(LoggedDaemon::Count(log, "leakscoped: accept:"), size_t(seconds) + 2) << log.size();
  EXPECT_LT(log.size(), 2000u);
  // Descriptors come free: the next process is served.
  held.Release();
  wire::Message bye;
  bye.mutable_goodbye()->set_how("exit");
  ASSERT_EQ(SendEachAs(who, daemon.socket(),
                       {testing::StreamHeader() +
                        testing::Frame(testing::HelloMessage(4100, "/usr/bin/after")) +
                        testing::Frame(bye)}),
            1u);
  EXPECT_TRUE(daemon.WaitForLog("leakscoped: wrote " + daemon.dir() + "/after.4100.lsr", 60s))
      << daemon.log();
}

}  // namespace
}  // namespace leakscope::security
