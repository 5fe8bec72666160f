// `leakscope html` end to end: trace cache_never_evicts (2,000 x 1,000 B
// kept by cache_example::ResponseCache::Render(int)), write the page, open
// it in headless Chromium (html_e2e.js, playwright-core) and check what the
// reader sees. The screenshot is kept as a test artifact (HTML_SCREENSHOT).
#include <gtest/gtest.h>

#include "cli_runner.h"

namespace leakscope::viewer {
namespace {

using testing::CliResult;
using testing::RunLeakscope;
using testing::RunProgram;
using testing::TempDir;

TEST(HtmlEndToEnd, FlameGraphAndTablesShowTheCacheLeak) {
  TempDir dir;
  ASSERT_EQ(RunLeakscope({"run", "-o", dir.path(), "--", CACHE_NEVER_EVICTS}).exit_status, 0);
  const std::vector<std::string> reports = dir.Files();
  ASSERT_EQ(reports.size(), 1u);
  const std::string page = dir.path() + "/report.html";
  const CliResult html = RunLeakscope({"html", dir.path() + "/" + reports[0], "-o", page});
  ASSERT_EQ(html.exit_status, 0) << html.err;
  const CliResult r = RunProgram(
      NODE_BIN, {HTML_E2E_JS, page, HTML_SCREENSHOT, "cache_example::ResponseCache::Get(int)"},
      {"NODE_PATH=" HTML_NODE_MODULES});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const std::string& seen = r.out;
  EXPECT_NE(seen.find("\"requests\":[]"), std::string::npos) << seen;  // nothing fetched
  EXPECT_EQ(seen.find("\"error\""), std::string::npos) << seen;        // no script error
  // The leak's stack, innermost last, in the flame graph.
  EXPECT_NE(seen.find("\"main\",\"cache_example::ResponseCache::Get(int)\","
                      "\"cache_example::ResponseCache::Render(int)\"]"),
            std::string::npos)
      << seen;
  // The leaks table: one row, 2,000 x 1,000 B.
  EXPECT_NE(seen.find("\"leak_rows\":[[\"cache_example::ResponseCache::Render(int)\","
                      "\"cache_never_evicts.cc:30 (cache_never_evicts)\",\"2,000,000 bytes\","
                      "\"2,000\",\"2,000\"]]"),
            std::string::npos)
      << seen;
  // Clicking Get(int) zooms into it: its callers fade, it and Render(int) do not.
  EXPECT_NE(seen.find("\"faded\":[\"all surviving bytes\",\"_start\",\"__libc_start_main@@"),
            std::string::npos)
      << seen;
  EXPECT_NE(seen.find("\"__libc_start_call_main\",\"main\"],"), std::string::npos) << seen;
  const auto number_after = [&](const std::string& key) {
    const size_t at = seen.find("\"" + key + "\":");
    return at == std::string::npos ? -1.0 : std::stod(seen.substr(at + key.size() + 3));
  };
  EXPECT_EQ(number_after("highlighted"), 1.0);  // searching "Render" marks one frame
}

}  // namespace
}  // namespace leakscope::viewer
