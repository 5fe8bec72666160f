// "Held until shutdown" in the text, JSON and HTML output and in `check
// --include-shutdown`, on ServerReport with an exit marker: Handler::Run's
// site (which freed everything) held 4,096 B in 4 allocations until
// shutdown, Cache::Insert's 1,024 B in 1 (and still leaks 1,572,864 B).
#include <gtest/gtest.h>

#include "html_report.h"
#include "json_report.h"
#include "leak_gate.h"
#include "sample_reports.h"
#include "text_report.h"

namespace leakscope::viewer {
namespace {

constexpr uint64_t kLeaked = 1572864 + 1000;
constexpr uint64_t kHeld = 4096 + 1024;

report::Report ExitedServer() {
  report::Report r = testing::ServerReport();
  r.mutable_process()->set_exit_began(true);
  r.mutable_totals()->set_shutdown_freed_bytes(kHeld);
  r.mutable_totals()->set_shutdown_freed_allocations(5);
  for (report::Site& s : *r.mutable_sites()) {
    if (s.live_bytes() == 0) {  // Handler::Run
      s.set_shutdown_freed_bytes(4096);
      s.set_shutdown_freed_allocations(4);
    } else if (s.live_bytes() == 1572864) {  // Cache::Insert
      s.set_shutdown_freed_bytes(1024);
      s.set_shutdown_freed_allocations(1);
    }
  }
  return r;
}

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The JSON writer indents; the expectations are written without the
// whitespace between tokens.
std::string Compact(const std::string& json) {
  std::string out;
  bool in_string = false;
  for (size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string && c == '\\') {
      out += c;
      out += json[++i];
      continue;
    }
    if (c == '"') in_string = !in_string;
    if (in_string || (c != ' ' && c != '\n')) out += c;
  }
  return out;
}

TEST(HeldUntilShutdown, TextSectionBySiteLargestFirst) {
  const std::string text = RenderTextReport(ExitedServer(), TextOptions{});
  const std::string expected =
      "Held until shutdown (2 of 2 sites): 5.0 KiB in 5 allocations live when exit began, "
      "freed only during teardown (atexit handlers, static destructors); not leaks, but never "
      "given back while running\n"
      "\n"
      "#1  4.0 KiB (4,096 bytes) in 4 allocations at Handler::Run()  /src/handler.cc:7  (server)\n"
      "    Handler::Run()  /src/handler.cc:7  (server)\n"
      "\n"
      "#2  1.0 KiB (1,024 bytes) in 1 allocation at Cache::Insert(std::string const&)  "
      "/src/cache.cc:42  (server)  [inlined]\n"
      "    Cache::Insert(std::string const&)  /src/cache.cc:42  (server)  [inlined]\n"
      "    Handler::Run()  /src/handler.cc:7  (server)\n"
      "    ??  (libc.so.6)\n"
      "\n";
  EXPECT_TRUE(Has(text, expected)) << text;
  // After the leaks, before the rankings.
  EXPECT_LT(text.find("Surviving allocations"), text.find("Held until shutdown"));
  TextOptions top1;
  top1.top = 1;
  EXPECT_TRUE(Has(RenderTextReport(ExitedServer(), top1),
                  "... 1 more site holding 1.0 KiB (use --top N to see more)\n"));
}

TEST(HeldUntilShutdown, NoSectionWithoutAnExitMarker) {
  report::Report r = ExitedServer();
  r.mutable_process()->set_exit_began(false);  // _exit, a crash: nothing torn down
  EXPECT_FALSE(Has(RenderTextReport(r, TextOptions{}), "Held until shutdown"));
  EXPECT_FALSE(Has(RenderJsonReport(r, JsonOptions{}), "held_until_shutdown"));
  EXPECT_TRUE(Has(Compact(HtmlPageData(r, SiteFilter{})),
                  "{\"id\":\"shutdown\",\"note\":\"Not known: the process did not exit"));
}

TEST(HeldUntilShutdown, Json) {
  const std::string json = Compact(RenderJsonReport(ExitedServer(), JsonOptions{}));
  EXPECT_TRUE(Has(json,
                  "\"held_until_shutdown\":{\"bytes\":5120,\"allocations\":5,\"sites\":2,"
                  "\"by_site\":[{\"bytes\":4096,\"allocations\":4,\"call_site\":{\"function\":"
                  "\"Handler::Run()\",\"file\":\"/src/handler.cc\",\"line\":7,"))
      << json;
  EXPECT_TRUE(Has(json,
                  "{\"bytes\":1024,\"allocations\":1,\"call_site\":{\"function\":"
                  "\"Cache::Insert(std::string const&)\",\"file\":\"/src/cache.cc\",\"line\":42,"))
      << json;
  report::Report none = ExitedServer();
  for (report::Site& s : *none.mutable_sites()) s.clear_shutdown_freed_allocations();
  EXPECT_TRUE(Has(Compact(RenderJsonReport(none, JsonOptions{})),
                  "\"held_until_shutdown\":{\"bytes\":0,\"allocations\":0,\"sites\":0,"
                  "\"by_site\":[]}"));
}

TEST(HeldUntilShutdown, HtmlTable) {
  const std::string data = Compact(HtmlPageData(ExitedServer(), SiteFilter{}));
  EXPECT_TRUE(Has(data, "{\"id\":\"shutdown\",\"columns\":[{\"title\":\"Call site\"}"));
  EXPECT_TRUE(Has(data,
                  "\"rows\":[[\"Handler::Run()\",\"handler.cc:7 (server)\",4096,4],"
                  "[\"Cache::Insert(std::string const&)\",\"cache.cc:42 (server)\",1024,1]]"))
      << data;
}

TEST(HeldUntilShutdown, CheckIgnoresItUnlessAsked) {
  GateLimits limits;
  limits.max_leaked = kLeaked;
  const GateVerdict v = EvaluateGate(ExitedServer(), nullptr, limits);
  EXPECT_TRUE(v.pass) << v.explanation;
  EXPECT_FALSE(Has(v.explanation, "shutdown"));
}

TEST(HeldUntilShutdown, CheckCountsItWithTheLeaks) {
  GateLimits limits;
  limits.max_leaked = kLeaked;
  limits.include_shutdown = true;
  GateVerdict v = EvaluateGate(ExitedServer(), nullptr, limits);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(
      Has(v.explanation,
          "  leaked and held until shutdown 1.5 MiB (1,578,984 bytes), over --max-leaked "
          "1.5 MiB (1,573,864 bytes) (--include-shutdown):\n"
          "    4.0 KiB (4,096 bytes) in 4 allocations held until shutdown at "
          "Handler::Run()  /src/handler.cc:7  (server)\n"
          "    1.0 KiB (1,024 bytes) in 1 allocation held until shutdown (and 1.5 MiB "
          "(1,572,864 bytes) leaked) at Cache::Insert(std::string const&)  /src/cache.cc:42  "
          "(server)  [inlined]\n"))
      << v.explanation;
  EXPECT_TRUE(Has(v.explanation, "  held until shutdown: 5.0 KiB (5,120 bytes) in 2 sites\n"));
  limits.max_leaked = kLeaked + kHeld;
  v = EvaluateGate(ExitedServer(), nullptr, limits);
  EXPECT_TRUE(v.pass) << v.explanation;
  // Per site: Handler::Run's 4,096 B is over 4,000; Cache::Insert's leak is
  // over too, and so is what it leaked and held together.
  limits.max_leaked.reset();
  limits.max_site_leaked = 4000;
  v = EvaluateGate(ExitedServer(), nullptr, limits);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(Has(v.explanation,
                  "  2 sites leaked and held until shutdown more than --max-site-leaked 3.9 KiB "
                  "(4,000 bytes) (--include-shutdown):\n"))
      << v.explanation;
}

TEST(HeldUntilShutdown, CheckWithNoLimitFailsOnAnyHeldByte) {
  report::Report r = ExitedServer();
  r.clear_sites();  // nothing leaked...
  report::Site* s = r.add_sites();
  s->add_frames(1);
  s->set_allocations(3);
  s->set_shutdown_freed_bytes(30);  // ...but 30 B held until shutdown
  s->set_shutdown_freed_allocations(3);
  GateLimits limits;
  EXPECT_TRUE(EvaluateGate(r, nullptr, limits).pass);
  limits.include_shutdown = true;
  const GateVerdict v = EvaluateGate(r, nullptr, limits);
  EXPECT_FALSE(v.pass);
  EXPECT_TRUE(Has(v.explanation, "over --max-leaked 0 B (0 bytes) (--include-shutdown):\n"))
      << v.explanation;
  // A process that never began to exit has nothing held to gate on.
  r.mutable_process()->set_exit_began(false);
  const GateVerdict unknown = EvaluateGate(r, nullptr, limits);
  EXPECT_TRUE(unknown.pass);
  EXPECT_TRUE(Has(unknown.explanation, "held until shutdown: not known"));
}

}  // namespace
}  // namespace leakscope::viewer
