// leakscoped's /metrics as Prometheus sees it: a real Prometheus server
// (Debian's `prometheus`, on loopback, scraping every second) scrapes a
// leakscoped that serves a real traced program and evaluates the example
// rules; its labelled series and the rules' records must arrive in
// Prometheus's HTTP API. And the example alerting rules pass promtool's
// check and their unit tests (the OOM-restart loop, in a container and on a
// host: examples/alerting/leakscope-rules.test.yml).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <cctype>
#include <fstream>
#include <iterator>

#include "daemon_test_util.h"
#include "http_test_util.h"

namespace leakscope::testing {
namespace {

using namespace std::chrono_literals;

// Prometheus's instant query `promql` (URL-encoded here); its JSON answer.
std::string Query(uint16_t port, const std::string& promql) {
  std::string encoded;
  for (unsigned char c : promql) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == ':') {
      encoded += char(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      encoded += hex;
    }
  }
  return HttpGet(port, "/api/v1/query?query=" + encoded);
}

// The example rules as Prometheus loads them, their 1-minute group
// evaluated every second (the test cannot wait minutes).
std::string RulesEverySecond(const std::string& dir) {
  std::ifstream in(EXAMPLES_DIR "/alerting/leakscope-rules.yml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t at = text.find("interval: 1m");
  if (at != std::string::npos) text.replace(at, 12, "interval: 1s");
  std::ofstream(dir + "/rules.yml") << text;
  return dir + "/rules.yml";
}

// A real Prometheus scrapes leakscoped serving a real traced program: the
// process's series arrive labelled by what survives a restart (service,
// --label, LEAKSCOPE_LABELS), the daemon's own series beside them, and the
// example rules load and evaluate on them: the within-life growth records
// see the leaking heap and its GrowStore site rise.
TEST(prometheus, ScrapesLabelledSeriesAndEvaluatesTheExampleRules) {
  const std::string dir = MakeTempDir("leakscope-prometheus-test");
  int err[2];
  ASSERT_EQ(pipe2(err, O_CLOEXEC), 0);
  pid_t daemon = Spawn({LEAKSCOPED_PATH, "--socket", dir + "/sock", "--output", dir, "--metrics",
                        "127.0.0.1:0", "--label", "env=test", "--label", "team=infra"},
                       {}, err[1]);
  close(err[1]);
  const uint16_t metrics_port = MetricsPort(err[0]);
  // 40 s of growth at most; stopped as soon as Prometheus has its figures.
  pid_t traced = Spawn({GROWTH_PATTERNS_PATH, "4000"},
                       {"LD_PRELOAD=" SHIM_PATH, "LEAKSCOPE_SAMPLE_INTERVAL=1",
                        "LEAKSCOPE_LABELS=team=pay", "LEAKSCOPE_SOCKET=" + dir + "/sock"});
  const uint16_t prometheus_port = FreePort();
  std::ofstream(dir + "/prometheus.yml")
      << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
         "rule_files: ['"
      << RulesEverySecond(dir)
      << "']\n"
         "scrape_configs:\n  - job_name: leakscope\n    static_configs:\n"
         "      - targets: ['127.0.0.1:"
      << metrics_port << "']\n";
  pid_t prometheus = Spawn(
      {PROMETHEUS_PATH, "--config.file=" + dir + "/prometheus.yml",
       "--storage.tsdb.path=" + dir + "/tsdb",
       "--web.listen-address=127.0.0.1:" + std::to_string(prometheus_port), "--log.level=error"},
      {});

  const std::string process = "{pid=\"" + std::to_string(traced) +
                              "\",service=\"growth_patterns\",team=\"pay\",env=\"test\"}";
  std::string live, rising, site_rising;
  const bool arrived = WaitFor(
      [&] {
        live = Query(prometheus_port, "leakscope_live_bytes" + process);
        rising = Query(prometheus_port, "leakscope:live_bytes:rising10m" + process + " == 1");
        site_rising =
            Query(prometheus_port, "leakscope:site_live_bytes:rising10m{pid=\"" +
                                       std::to_string(traced) + "\",site=~\".*GrowStore.*\"} == 1");
        return live.find("\"result\":[{") != std::string::npos &&
               rising.find("\"result\":[{") != std::string::npos &&
               site_rising.find("\"result\":[{") != std::string::npos;
      },
      35s);
  const std::string up = Query(prometheus_port, "leakscope_up");
  const std::string daemon_rss = Query(prometheus_port, "leakscope_daemon_rss_bytes > 1000000");
  const std::string started =
      Query(prometheus_port, "abs(time() - leakscope_process_start_time_seconds" + process + ")");
  const std::string ended = Query(prometheus_port, "leakscope:ended_lives:6h");
  const std::string rules = HttpGet(prometheus_port, "/api/v1/rules");
  StopChild(prometheus);
  StopChild(traced);
  StopChild(daemon);
  close(err[0]);
  std::filesystem::remove_all(dir);

  ASSERT_TRUE(arrived) << live << "\n" << rising << "\n" << site_rising;
  EXPECT_NE(live.find("\"exe\":\"" GROWTH_PATTERNS_PATH "\""), std::string::npos) << live;
  EXPECT_NE(live.find("\"job\":\"leakscope\""), std::string::npos) << live;
  // Its value: a positive byte count, a JSON string after the sample time.
  const size_t value = live.find("\"value\":[");
  ASSERT_NE(value, std::string::npos) << live;
  EXPECT_GT(NumberAfter(live.substr(live.find(",\"", value)), ",\""), 0u) << live;
  EXPECT_NE(up.find("\"value\":["), std::string::npos) << up;
  EXPECT_NE(up.find(",\"1\"]"), std::string::npos) << up;
  EXPECT_NE(daemon_rss.find("\"result\":[{"), std::string::npos) << daemon_rss;
  // The process started within the last minute, by the daemon's clock.
  EXPECT_LT(NumberAfter(started.substr(started.find(",\"", started.find("\"value\":["))), ",\""),
            60u)
      << started;
  // One life, nothing ended: the per-service record says 0.
  EXPECT_NE(ended.find("\"service\":\"growth_patterns\""), std::string::npos) << ended;
  EXPECT_NE(ended.find(",\"0\"]"), std::string::npos) << ended;
  // Every rule of the example file loaded and evaluated without error.
  for (const char* name : {"LeakscopeHeapGrowsEachLife", "LeakscopeSiteGrows",
                           "LeakscopeHeapGrowingSteadily", "leakscope:ended_lives:6h"})
    EXPECT_NE(rules.find(std::string("\"name\":\"") + name + "\""), std::string::npos) << name;
  EXPECT_EQ(rules.find("\"health\":\"err\""), std::string::npos) << rules;
}

TEST(prometheus, AlertingRulesCheckAndPassTheirUnitTests) {
  const std::string rules = EXAMPLES_DIR "/alerting/leakscope-rules.yml";
  const std::string tests = EXAMPLES_DIR "/alerting/leakscope-rules.test.yml";
  EXPECT_EQ(std::system((PROMTOOL_PATH " check rules " + rules + " >/dev/null").c_str()), 0);
  EXPECT_EQ(std::system((PROMTOOL_PATH " test rules " + tests + " >/dev/null").c_str()), 0);
}

}  // namespace
}  // namespace leakscope::testing
