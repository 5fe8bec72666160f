// leakscoped's /metrics as Prometheus sees it: a real Prometheus server
// (Debian's `prometheus`, on loopback, scraping every second) scrapes a
// leakscoped that serves a real traced program; its live bytes must arrive
// in Prometheus's HTTP API. And the example alerting rules pass promtool's
// check and their unit tests.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cctype>
#include <fstream>

#include "daemon_test_util.h"

extern char** environ;

namespace leakscope::testing {
namespace {

using namespace std::chrono_literals;

pid_t Spawn(std::vector<std::string> args, const std::vector<std::string>& extra_env,
            int stderr_fd = -1) {
  std::vector<std::string> env = extra_env;
  for (char** e = environ; *e; ++e) env.push_back(*e);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  for (auto& e : env) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()), 0) << args[0];
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

void StopChild(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
}

uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// GET on loopback; the body, or "" if the server is not answering yet.
std::string HttpGet(uint16_t port, const std::string& target) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string request =
        "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// The number that follows `prefix` in `text` (0 if none).
uint64_t NumberAfter(const std::string& text, const std::string& prefix) {
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return 0;
  uint64_t n = 0;
  for (size_t i = at + prefix.size(); i < text.size() && std::isdigit(text[i]); ++i)
    n = n * 10 + uint64_t(text[i] - '0');
  return n;
}

// Reads leakscoped's stderr until it names its metrics port.
uint16_t MetricsPort(int fd) {
  std::string text;
  char c;
  const std::string prefix = "metrics on http://127.0.0.1:";
  while (read(fd, &c, 1) == 1) {
    text += c;
    if (c == '\n' && text.find(prefix) != std::string::npos)
      return static_cast<uint16_t>(NumberAfter(text, prefix));
  }
  ADD_FAILURE() << "leakscoped said: " << text;
  return 0;
}

TEST(prometheus, ScrapesLiveBytesOfATracedProgram) {
  const std::string dir = MakeTempDir("leakscope-prometheus-test");
  int err[2];
  ASSERT_EQ(pipe2(err, O_CLOEXEC), 0);
  pid_t daemon = Spawn(
      {LEAKSCOPED_PATH, "--socket", dir + "/sock", "--output", dir, "--metrics", "127.0.0.1:0"}, {},
      err[1]);
  close(err[1]);
  const uint16_t metrics_port = MetricsPort(err[0]);
  // 20 s of growth at most; stopped as soon as Prometheus has its figures.
  pid_t traced =
      Spawn({GROWTH_PATTERNS_PATH, "2000"}, {"LD_PRELOAD=" SHIM_PATH, "LEAKSCOPE_SAMPLE_INTERVAL=1",
                                             "LEAKSCOPE_SOCKET=" + dir + "/sock"});
  const uint16_t prometheus_port = FreePort();
  std::ofstream(dir + "/prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
         "scrape_configs:\n  - job_name: leakscope\n    static_configs:\n"
         "      - targets: ['127.0.0.1:"
      << metrics_port << "']\n";
  pid_t prometheus = Spawn(
      {PROMETHEUS_PATH, "--config.file=" + dir + "/prometheus.yml",
       "--storage.tsdb.path=" + dir + "/tsdb",
       "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port), "--log.level=error"},
      {});

  const std::string query =
      "/api/v1/query?query=leakscope_live_bytes%7Bpid%3D%22" + std::to_string(traced) + "%22%7D";
  std::string answer;
  const bool arrived = WaitFor(
      [&] {
        answer = HttpGet(prometheus_port, query);
        return answer.find("\"result\":[{") != std::string::npos;
      },
      25s);
  const std::string sites =
      HttpGet(prometheus_port, "/api/v1/query?query=leakscope_site_live_bytes%7Bpid%3D%22" +
                                   std::to_string(traced) + "%22%7D");
  StopChild(prometheus);
  StopChild(traced);
  StopChild(daemon);
  close(err[0]);
  std::filesystem::remove_all(dir);

  ASSERT_TRUE(arrived) << answer;
  EXPECT_NE(answer.find("\"exe\":\"" GROWTH_PATTERNS_PATH "\""), std::string::npos) << answer;
  EXPECT_NE(answer.find("\"job\":\"leakscope\""), std::string::npos) << answer;
  // Its value: a positive byte count, a JSON string after the sample time.
  const size_t value = answer.find("\"value\":[");
  ASSERT_NE(value, std::string::npos) << answer;
  EXPECT_GT(NumberAfter(answer.substr(answer.find(",\"", value)), ",\""), 0u) << answer;
  // The site series, labelled by function: the growing store is one of them.
  EXPECT_NE(sites.find("GrowStore"), std::string::npos) << sites;
}

TEST(prometheus, AlertingRulesCheckAndPassTheirUnitTests) {
  const std::string rules = EXAMPLES_DIR "/alerting/leakscope-rules.yml";
  const std::string tests = EXAMPLES_DIR "/alerting/leakscope-rules.test.yml";
  EXPECT_EQ(std::system((PROMTOOL_PATH " check rules " + rules + " >/dev/null").c_str()), 0);
  EXPECT_EQ(std::system((PROMTOOL_PATH " test rules " + tests + " >/dev/null").c_str()), 0);
}

}  // namespace
}  // namespace leakscope::testing
