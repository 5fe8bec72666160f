// One id per site everywhere: a real program (site_ids_program.cc) under
// leakscoped; the site series of its /metrics, read while it runs, name the
// program's call sites (not std::vector's or std::string's allocator) with
// the site ids that the text report, `report --json` and `check` show for
// the same sites in the report written when it ends.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <thread>

#include "child_io.h"
#include "cli_runner.h"

namespace leakscope::viewer::testing {
namespace {

using namespace std::chrono_literals;

using leakscope::testing::HttpGet;

// Polls `condition` every 10 ms until it holds or 20 s pass.
bool WaitFor(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

struct Series {
  std::string site;
  uint64_t bytes = 0;
};

// The program's site series in a /metrics text: by site_id.
std::map<std::string, Series> ProgramSeries(const std::string& metrics, pid_t pid) {
  std::map<std::string, Series> out;
  const std::string prefix = "leakscope_site_live_bytes{pid=\"" + std::to_string(pid) + "\",";
  size_t pos = 0;
  while ((pos = metrics.find(prefix, pos)) != std::string::npos) {
    const size_t end = metrics.find('\n', pos);
    const std::string line = metrics.substr(pos, end - pos);
    pos = end;
    const size_t site = line.find(",site=\"") + 7, id = line.find("\",site_id=\"");
    const size_t value = line.find("\"} ");
    if (line.find("site_ids_program.cc") == std::string::npos) continue;  // runtime internals
    out[line.substr(id + 11, value - id - 11)] = {line.substr(site, id - site),
                                                  std::stoull(line.substr(value + 3))};
  }
  return out;
}

TEST(SiteIds, SameIdInMetricsTextJsonAndCheck) {
  TempDir dir;
  const std::string sock = dir.path() + "/sock";
  int err[2], in[2], out[2];
  ASSERT_EQ(pipe2(err, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(in, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  const pid_t daemon =
      Spawn({LEAKSCOPED_BIN, "--socket", sock, "--output", dir.path(), "--metrics", "127.0.0.1:0"},
            {}, -1, -1, err[1]);
  close(err[1]);
  const std::string said = ReadLineWith(err[0], "metrics on http://127.0.0.1:");
  const uint16_t port = static_cast<uint16_t>(std::stoi(said.substr(said.rfind(':') + 1)));
  const pid_t program =
      Spawn({SITE_IDS_PROGRAM},
            {"LD_PRELOAD=" SHIM_PATH, "LEAKSCOPE_SOCKET=" + sock, "LEAKSCOPE_SAMPLE_INTERVAL=1"},
            in[0], out[1], -1);
  close(in[0]);
  close(out[1]);
  EXPECT_EQ(ReadLineWith(out[0], "ready"), "ready");
  // The collector has read up to "ready" once the last site (main's) shows.
  std::map<std::string, Series> series;
  EXPECT_TRUE(WaitFor([&] {
    series = ProgramSeries(HttpGet(port, "/metrics"), program);
    return series.size() == 4;
  }));
  close(in[1]);  // the program ends
  int status = 0;
  waitpid(program, &status, 0);
  const std::string report =
      dir.path() + "/viewer_site_ids_program." + std::to_string(program) + ".lsr";
  EXPECT_TRUE(WaitFor([&] { return std::filesystem::exists(report); })) << report;
  kill(daemon, SIGTERM);
  waitpid(daemon, nullptr, 0);
  close(err[0]);
  close(out[0]);

  // The call sites, as /metrics labels them: the program's lines.
  std::multimap<std::string, uint64_t> sites;
  for (const auto& [id, s] : series) sites.emplace(s.site, s.bytes);
  EXPECT_EQ(sites, (std::multimap<std::string, uint64_t>{{"Grow(int) site_ids_program.cc:14", 8192},
                                                         {"Name() site_ids_program.cc:18", 32},
                                                         {"Name() site_ids_program.cc:18", 1001},
                                                         {"main site_ids_program.cc:22", 24}}));

  const CliResult text = RunLeakscope({"report", report, "--wide"});
  const CliResult json = RunLeakscope({"report", report, "--json"});
  const CliResult check = RunLeakscope({"check", report});
  ASSERT_EQ(text.exit_status, 0) << text.err;
  ASSERT_EQ(json.exit_status, 0) << json.err;
  EXPECT_EQ(check.exit_status, 1) << check.out;
  for (const auto& [id, s] : series) {
    SCOPED_TRACE(id + " " + s.site);
    // JSON: the site with this id holds what the series said.
    const size_t at = json.out.find("\"site_id\": \"" + id + "\"");
    ASSERT_NE(at, std::string::npos) << json.out;
    const size_t row = json.out.rfind("\"live_bytes\": ", at);
    EXPECT_EQ(json.out.substr(row, json.out.find(',', row) - row),
              "\"live_bytes\": " + std::to_string(s.bytes));
    // Text: the surviving site's row starts with the id, then its live bytes.
    const size_t line = text.out.find("  " + id + "  ");
    ASSERT_NE(line, std::string::npos) << text.out;
    const std::string digits = std::to_string(s.bytes);
    const std::string exact = digits.size() > 3 ? digits.substr(0, digits.size() - 3) + "," +
                                                      digits.substr(digits.size() - 3)
                                                : digits;
    EXPECT_NE(text.out.substr(line, text.out.find('\n', line) - line).find("(" + exact + " bytes)"),
              std::string::npos)
        << text.out;
    // check: the offending site's line ends with it.
    EXPECT_NE(check.out.find("site_ids_program.cc:" + s.site.substr(s.site.rfind(':') + 1) +
                             "  (viewer_site_ids_program)  site " + id + "\n"),
              std::string::npos)
        << check.out;
  }
}

}  // namespace
}  // namespace leakscope::viewer::testing
