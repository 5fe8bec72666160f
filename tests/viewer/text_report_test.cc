#include "text_report.h"

#include <gtest/gtest.h>

#include "sample_reports.h"

namespace leakscope::viewer {
namespace {

using testing::ServerReport;
using testing::TinyReport;

// Counts how often `needle` occurs in `haystack`.
size_t Occurrences(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

TEST(TextReport, ServerReportInFull) {
  // Live at end: 1,573,864 B = 1.50 MiB. Site #1 allocated 3,000,000 B = 2.86 MiB.
  // The third site freed all it allocated and is not a survivor, but it made
  // 4 allocation calls (4096 B). No peak or temporary figures: no such sections.
  const std::string expected =
      "Command      server --port '80 81'\n"
      "Process      pid 4242, parent 1\n"
      "Ended        exited with status 3\n"
      "Peak live    2.0 MiB (2,097,152 bytes)\n"
      "Live at end  1.5 MiB (1,573,864 bytes) in 1,244 allocations\n"
      "Allocations  1,500 (3.0 MiB), 256 frees\n"
      "Sampling     every allocation recorded\n"
      "Integrity    complete: every allocation and free recorded\n"
      "\n"
      "Surviving allocations by call site (2 of 2 sites):\n"
      "\n"
      "#1  4e8cc658  1.5 MiB live (1,572,864 bytes) in 1,234 allocations; 2.9 MiB allocated "
      "here in "
      "1,400 calls\n"
      "    Cache::Insert(std::string const&)  /src/cache.cc:42  (server)  [inlined]\n"
      "    Handler::Run()  /src/handler.cc:7  (server)\n"
      "    ??  (libc.so.6)\n"
      "\n"
      "#2  46b77f52  1000 B live (1,000 bytes) in 10 allocations; 1000 B allocated here in 10 "
      "calls\n"
      "    leak_hundreds  /src/leaky.c:12  (server)\n"
      "\n"
      "Most allocations (3 of 3 sites):\n"
      "  #1  4e8cc658  1,400 calls, 2.9 MiB  Cache::Insert(std::string const&)  /src/cache.cc:42  "
      "(server)  "
      "[inlined]\n"
      "  #2  46b77f52  10 calls, 1000 B  leak_hundreds  /src/leaky.c:12  (server)\n"
      "  #3  f5ae49ba  4 calls, 4.0 KiB  Handler::Run()  /src/handler.cc:7  (server)\n";
  EXPECT_EQ(RenderTextReport(ServerReport(), TextOptions{}), expected);
}

TEST(TextReport, SignaledForkedWithDroppedEventsAndHostileStrings) {
  // argv has a quote (shell-quoted) and a tab (shown as '?', never raw).
  const std::string expected =
      "Command      'a\"b' 'tab?here'\n"
      "Process      pid 7, parent 6, forked from a traced parent (inherited memory not counted)\n"
      "Ended        killed by SIGKILL (signal 9)\n"
      "Peak live    300 B (300 bytes)\n"
      "Live at end  100 B (100 bytes) in 1 allocation\n"
      "Allocations  2 (300 B), 1 free\n"
      "Sampling     every allocation recorded\n"
      "Integrity    INCOMPLETE: 5 events dropped (ring full or collector unreachable)\n"
      "\n"
      "Surviving allocations by call site (1 of 1 site):\n"
      "\n"
      "#1  95303fea  100 B live (100 bytes) in 1 allocation; 300 B allocated here in 2 calls\n"
      "    f  /src/\xff.c:3  (a\"b)\n"
      "\n"
      "Most allocations (1 of 1 site):\n"
      "  #1  95303fea  2 calls, 300 B  f  /src/\xff.c:3  (a\"b)\n";
  EXPECT_EQ(RenderTextReport(TinyReport(), TextOptions{}), expected);
}

// A forked child: what it inherited at fork, and which sites hold it.
report::Report InheritedChild() {
  report::Report r = TinyReport();
  r.mutable_process()->set_inheritance(report::Process::INHERITED);
  r.mutable_process()->set_parent_pid(1234);
  report::Totals* t = r.mutable_totals();
  t->set_inherited_bytes(1258291);
  t->set_inherited_allocations(1000);
  t->set_inherited_live_bytes(60000);
  t->set_inherited_live_allocations(600);
  r.mutable_sites(0)->set_inherited_live_bytes(100);
  r.mutable_sites(0)->set_inherited_live_allocations(1);
  return r;
}

TEST(TextReport, ForkedChildSaysWhatItInherited) {
  const std::string text = RenderTextReport(InheritedChild(), TextOptions{});
  EXPECT_NE(text.find("Process      pid 7, parent 6, forked from traced parent pid 1234\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("Allocations  2 (300 B), 1 free\n"
                      "Inherited    1.2 MiB in 1,000 allocations from parent pid 1234 at fork; "
                      "600 still live (58.6 KiB)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("#1  95303fea  100 B live (100 bytes) in 1 allocation; 300 B allocated here "
                      "in 2 calls\n    inherited from the parent at fork: 1 allocation (100 B) of "
                      "these\n    f  "),
            std::string::npos)
      << text;
}

TEST(TextReport, ForkedChildWithoutItsParentsStateSaysSo) {
  report::Report r = TinyReport();
  r.mutable_process()->set_inheritance(report::Process::INHERITANCE_UNAVAILABLE);
  r.mutable_process()->set_parent_pid(6);
  const std::string text = RenderTextReport(r, TextOptions{});
  EXPECT_NE(text.find("Inherited    unavailable: the parent's live allocations at fork are not "
                      "known, so frees of them count as unmatched\n"),
            std::string::npos)
      << text;
}

TEST(TextReport, TopLimitsSitesAndSaysWhatIsHidden) {
  TextOptions options;
  options.top = 1;
  const std::string text = RenderTextReport(ServerReport(), options);
  EXPECT_NE(text.find("Surviving allocations by call site (1 of 2 sites):\n"), std::string::npos);
  EXPECT_EQ(Occurrences(text, "\n#"), 1u);
  EXPECT_NE(text.find("\n#1  4e8cc658  1.5 MiB live"), std::string::npos);
  EXPECT_NE(text.find("... 1 more site holding 1000 B (use --top N to see more)\n\n"
                      "Most allocations (1 of 3 sites):\n  #1  4e8cc658  1,400 calls"),
            std::string::npos);
  EXPECT_EQ(Occurrences(text, "  #"), 1u);
}

TEST(TextReport, SampledFiguresAreMarkedAsEstimates) {
  report::Report r = ServerReport();
  r.set_sampling_interval_bytes(4096);
  report::Site* big = r.mutable_sites(1);
  big->set_live_samples(384);
  big->set_live_bytes_ci_low(1468006);   // 1.39999 MiB
  big->set_live_bytes_ci_high(1677722);  // 1.60000 MiB
  const std::string text = RenderTextReport(r, TextOptions{});
  EXPECT_NE(text.find("Sampling     one sample per 4.0 KiB (4,096 bytes) allocated on average: "
                      "per-site figures are estimates\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("#1  4e8cc658  ~1.5 MiB live (1,572,864 bytes, 95% CI 1.4 MiB to 1.6 MiB, 384 "
                "samples) in ~1,234 allocations; ~2.9 MiB allocated here in ~1,400 calls\n"),
      std::string::npos);
  // The rankings are estimates too.
  EXPECT_NE(text.find("Most allocations (3 of 3 sites):\n"
                      "  #1  4e8cc658  ~1,400 calls, ~2.9 MiB  Cache::Insert(std::string const&)"),
            std::string::npos);
}

// Sampled, the collector cannot tell what came between a sample and its
// free: "temporary" is not counted, so not shown (it would read ~100%).
TEST(TextReport, TemporaryAllocationsOnlyWhenEveryAllocationIsRecorded) {
  report::Report r = ServerReport();
  r.mutable_sites(1)->set_temporary_allocations(700);
  const std::string heading = "Temporary allocations, freed before their thread allocated again";
  const std::string exact = RenderTextReport(r, TextOptions{});
  EXPECT_NE(exact.find(heading + " (1 of 1 site):\n  #1  4e8cc658  700 of 1,400 calls"),
            std::string::npos)
      << exact;
  r.set_sampling_interval_bytes(4096);
  const std::string sampled = RenderTextReport(r, TextOptions{});
  EXPECT_EQ(sampled.find("Temporary allocations"), std::string::npos) << sampled;
}

TEST(TextReport, LongStacksAreCut) {
  report::Report r = ServerReport();
  report::Site* site = r.mutable_sites(0);
  site->clear_frames();
  for (int i = 0; i < 10; ++i) site->add_frames(3);
  TextOptions options;
  options.max_frames = 8;
  const std::string text = RenderTextReport(r, options);
  EXPECT_EQ(Occurrences(text, "    leak_hundreds  /src/leaky.c:12  (server)\n"), 8u);
  EXPECT_NE(text.find("    ... 2 more frames\n"), std::string::npos);
}

TEST(TextReport, NothingSurvives) {
  report::Report r = ServerReport();
  r.mutable_sites()->DeleteSubrange(0, 2);  // keep only the site that freed everything
  const std::string text = RenderTextReport(r, TextOptions{});
  EXPECT_NE(text.find("\nSurviving allocations by call site: none, every recorded allocation was "
                      "freed.\n"),
            std::string::npos);
}

TEST(TextReport, OtherEndings) {
  report::Report r = ServerReport();
  r.mutable_process()->set_end(report::Process::DISCONNECTED);
  EXPECT_NE(RenderTextReport(r, TextOptions{})
                .find("Ended        disconnected without saying goodbye (crashed or killed; exit "
                      "status unknown)\n"),
            std::string::npos);
  r.mutable_process()->set_end(report::Process::ENDED);
  r.mutable_process()->set_how("_exit");
  EXPECT_NE(
      RenderTextReport(r, TextOptions{}).find("Ended        ended by _exit, exit status unknown\n"),
      std::string::npos);
  EXPECT_NE(RenderTextReport(r, TextOptions{}).find("\nSurviving allocations by call site (2 of"),
            std::string::npos);
  r.mutable_process()->set_how("exec");  // the image was replaced: its memory went with it
  const std::string exec = RenderTextReport(r, TextOptions{});
  EXPECT_NE(exec.find("\nHeld when exec replaced this image (released by the kernel, not "
                      "leaked), by call site (2 of 2 sites):\n"),
            std::string::npos);
  EXPECT_EQ(exec.find("Surviving allocations"), std::string::npos);
  r.mutable_process()->set_end(report::Process::RUNNING);
  const std::string running = RenderTextReport(r, TextOptions{});
  EXPECT_NE(running.find("Ended        still running (this is a snapshot)\n"), std::string::npos);
  EXPECT_NE(running.find("Live now     1.5 MiB"), std::string::npos);
}

TEST(TextReport, FrameIndexOutOfRangeShowsUnknownFrame) {
  report::Report r = TinyReport();
  r.mutable_sites(0)->set_frames(0, 99);  // no such frame
  EXPECT_NE(RenderTextReport(r, TextOptions{})
                .find("  100 B live (100 bytes) in 1 allocation; "
                      "300 B allocated here in 2 calls\n    ??\n"),
            std::string::npos);
}

TEST(TextReport, FallbackNameIsNotFollowedByItsModuleAgain) {
  report::Report r = TinyReport();
  report::Frame* f = r.mutable_frames(0);
  f->set_function("libstdc++.so.6+0xa57b9");
  f->set_file("");
  f->set_module("/usr/lib/x86_64-linux-gnu/libstdc++.so.6");
  EXPECT_NE(RenderTextReport(r, TextOptions{}).find("\n    libstdc++.so.6+0xa57b9\n"),
            std::string::npos);
}

TEST(TextReport, ColourOnlyWhenAsked) {
  TextOptions options;
  options.color = true;
  const std::string text = RenderTextReport(TinyReport(), options);
  EXPECT_NE(text.find("\033[1;31mINCOMPLETE: 5 events dropped"), std::string::npos);
  EXPECT_NE(text.find("\033[1mCommand      \033[0m"), std::string::npos);
  EXPECT_EQ(RenderTextReport(TinyReport(), TextOptions{}).find('\033'), std::string::npos);
}

}  // namespace
}  // namespace leakscope::viewer

namespace leakscope::viewer {
namespace {

// Growth suspects lead for a process that is still running or was killed,
// and follow the surviving sites for one that ended on its own.
TEST(TextReport, SuspectsFirstForRunningOrKilledProcesses) {
  report::Report r = testing::ServerReport();
  report::GrowthSuspect* g = r.add_growth_suspects();
  g->set_site(0);
  g->set_bytes_per_hour(3600.0 * 1024 * 1024);
  g->set_confidence(0.9);
  const auto order = [&](report::Process::End end) {
    r.mutable_process()->set_end(end);
    const std::string text = RenderTextReport(r, TextOptions{});
    const size_t suspects = text.find("Growth suspects");
    const size_t surviving = text.find("Surviving allocations by call site");
    EXPECT_NE(suspects, std::string::npos);
    EXPECT_NE(surviving, std::string::npos);
    return suspects < surviving;
  };
  EXPECT_TRUE(order(report::Process::RUNNING));
  EXPECT_TRUE(order(report::Process::SIGNALED));
  EXPECT_TRUE(order(report::Process::DISCONNECTED));
  EXPECT_FALSE(order(report::Process::EXITED));
  EXPECT_FALSE(order(report::Process::ENDED));
}

}  // namespace
}  // namespace leakscope::viewer
