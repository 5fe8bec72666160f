#include "json_report.h"

#include <gtest/gtest.h>

#include "sample_reports.h"

namespace leakscope::viewer {
namespace {

using testing::ServerReport;
using testing::TinyReport;

TEST(JsonReport, TinyReportInFull) {
  // Quotes escaped, the tab as \t, the invalid byte 0xff in a path as U+FFFD;
  // killed by a signal: "signal", no "exit_status". The one site is a leak and
  // made the most allocations; it has no peak or temporary figures.
  const std::string expected = R"json({
  "process": {
    "pid": 7,
    "ppid": 6,
    "exe": "/bin/a\"b",
    "argv": [
      "a\"b",
      "tab\there"
    ],
    "signal": 9,
    "end": "signaled",
    "forked": true
  },
  "sampling_interval_bytes": 1,
  "totals": {
    "allocations": 2,
    "frees": 1,
    "allocated_bytes": 300,
    "live_bytes": 100,
    "live_allocations": 1,
    "peak_live_bytes": 300,
    "folded_allocations": 0
  },
  "dropped_events": 5,
  "reentrant_events": 0,
  "integrity": {
    "complete": false,
    "sampled": false,
    "dropped_events": 5,
    "reentrant_events": 0,
    "unmatched_frees": 0,
    "possibly_missing_ms": 0,
    "summary": "INCOMPLETE: 5 events dropped (ring full or collector unreachable)"
  },
  "sites": [
    {
      "live_bytes": 100,
      "live_allocations": 1,
      "allocated_bytes": 300,
      "allocations": 2,
      "peak_live_bytes": 0,
      "temporary_allocations": 0,
      "internal": false,
      "site_id": "95303fea",
      "call_site_frame": 0,
      "frames": [
        {
          "function": "f",
          "file": "/src/\ufffd.c",
          "line": 3,
          "module": "/bin/a\"b",
          "inlined": false
        }
      ]
    }
  ],
  "leaks": {
    "live_bytes": 100,
    "live_allocations": 1,
    "sites": 1,
    "internal_live_bytes": 0,
    "suppressed_sites": 0,
    "suppressed_live_bytes": 0
  },
  "internals": [],
  "growth_suspects": [],
  "peak_consumers": [],
  "most_allocations": [
    {
      "live_bytes": 100,
      "live_allocations": 1,
      "allocated_bytes": 300,
      "allocations": 2,
      "peak_live_bytes": 0,
      "temporary_allocations": 0,
      "site_id": "95303fea",
      "call_site": {
        "function": "f",
        "file": "/src/\ufffd.c",
        "line": 3,
        "module": "/bin/a\"b",
        "inlined": false
      }
    }
  ],
  "temporary_allocations": [],
  "timeline": []
}
)json";
  EXPECT_EQ(RenderJsonReport(TinyReport(), 0), expected);
}

TEST(JsonReport, ExitedProcessHasExitStatusAndNoSignal) {
  const std::string json = RenderJsonReport(ServerReport(), 0);
  EXPECT_NE(json.find("    \"exit_status\": 3,\n    \"end\": \"exited\",\n"), std::string::npos);
  EXPECT_EQ(json.find("\"signal\""), std::string::npos);
}

TEST(JsonReport, SitesSortedByLiveBytesAndLimitedByTop) {
  const std::string all = RenderJsonReport(ServerReport(), 0);
  const size_t big = all.find("      \"live_bytes\": 1572864,");
  const size_t small = all.find("      \"live_bytes\": 1000,");
  const size_t freed = all.find("      \"live_bytes\": 0,");
  ASSERT_NE(big, std::string::npos);
  ASSERT_NE(small, std::string::npos);
  ASSERT_NE(freed, std::string::npos);
  EXPECT_LT(big, small);
  EXPECT_LT(small, freed);

  const std::string top2 = RenderJsonReport(ServerReport(), 2);
  EXPECT_NE(top2.find("      \"live_bytes\": 1000,"), std::string::npos);
  EXPECT_EQ(top2.find("      \"live_bytes\": 0,"), std::string::npos);
}

TEST(JsonReport, SampledSitesCarryConfidenceInterval) {
  report::Report r = TinyReport();
  r.set_sampling_interval_bytes(512);
  r.mutable_sites(0)->set_live_samples(1);
  r.mutable_sites(0)->set_live_bytes_ci_low(3);
  r.mutable_sites(0)->set_live_bytes_ci_high(2048);
  const std::string json = RenderJsonReport(r, 0);
  EXPECT_NE(json.find("  \"sampling_interval_bytes\": 512,\n"), std::string::npos);
  EXPECT_NE(json.find("      \"peak_live_bytes\": 0,\n"
                      "      \"live_samples\": 1,\n"
                      "      \"live_bytes_ci_low\": 3,\n"
                      "      \"live_bytes_ci_high\": 2048,\n"
                      "      \"internal\": false,\n"),
            std::string::npos);
  EXPECT_EQ(RenderJsonReport(TinyReport(), 0).find("live_samples"), std::string::npos);
}

// Sampled mode does not count temporary allocations: no per-site figure and
// no ranking, rather than a ranking that says "none" or "all".
TEST(JsonReport, TemporaryAllocationsOnlyWhenEveryAllocationIsRecorded) {
  report::Report r = TinyReport();
  EXPECT_NE(RenderJsonReport(r, 0).find("\n  \"temporary_allocations\": [],\n"), std::string::npos);
  r.set_sampling_interval_bytes(512);
  EXPECT_EQ(RenderJsonReport(r, 0).find("temporary"), std::string::npos) << RenderJsonReport(r, 0);
}

// exec released the image's memory: the JSON says nothing leaked, as the
// text and `check` do, and what it held is released_by_exec_bytes.
TEST(JsonReport, AnImageReplacedByExecLeakedNothing) {
  report::Report r = ServerReport();
  r.mutable_process()->set_end(report::Process::ENDED);
  r.mutable_process()->set_how("exec");
  const std::string json = RenderJsonReport(r, 0);
  EXPECT_NE(json.find("  \"leaks\": {\n"
                      "    \"live_bytes\": 0,\n"
                      "    \"live_allocations\": 0,\n"
                      "    \"sites\": 0,\n"
                      "    \"released_by_exec_bytes\": 1573864,\n"),
            std::string::npos)
      << json;
  r.mutable_process()->set_how("_exit");
  EXPECT_EQ(RenderJsonReport(r, 0).find("released_by_exec"), std::string::npos);
}

TEST(JsonReport, ForkedChildCarriesWhatItInherited) {
  report::Report r = TinyReport();
  r.mutable_process()->set_inheritance(report::Process::INHERITED);
  r.mutable_process()->set_parent_pid(6);
  report::Totals* t = r.mutable_totals();
  t->set_inherited_bytes(1000);
  t->set_inherited_allocations(10);
  t->set_inherited_live_bytes(100);
  t->set_inherited_live_allocations(1);
  r.mutable_sites(0)->set_inherited_live_bytes(100);
  r.mutable_sites(0)->set_inherited_live_allocations(1);
  const std::string json = RenderJsonReport(r, 0);
  EXPECT_NE(json.find("    \"forked\": true,\n"
                      "    \"parent_pid\": 6,\n"
                      "    \"inheritance\": \"inherited\"\n"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("    \"peak_live_bytes\": 300,\n"
                      "    \"folded_allocations\": 0,\n"
                      "    \"inherited_bytes\": 1000,\n"
                      "    \"inherited_allocations\": 10,\n"
                      "    \"inherited_live_bytes\": 100,\n"
                      "    \"inherited_live_allocations\": 1\n"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find("      \"temporary_allocations\": 0,\n"
                      "      \"inherited_live_bytes\": 100,\n"
                      "      \"inherited_live_allocations\": 1,\n"),
            std::string::npos)
      << json;

  r.mutable_process()->set_inheritance(report::Process::INHERITANCE_UNAVAILABLE);
  const std::string unavailable = RenderJsonReport(r, 0);
  EXPECT_NE(unavailable.find("    \"inheritance\": \"unavailable\"\n"), std::string::npos);
  EXPECT_EQ(unavailable.find("inherited_"), std::string::npos);
}

TEST(JsonReport, EndWords) {
  report::Report r = TinyReport();
  const std::pair<report::Process::End, const char*> cases[] = {
      {report::Process::DISCONNECTED, "disconnected"},
      {report::Process::ENDED, "ended"},
      {report::Process::RUNNING, "running"},
      {report::Process::END_UNKNOWN, "unknown"}};
  for (const auto& [end, word] : cases) {
    r.mutable_process()->set_end(end);
    const std::string json = RenderJsonReport(r, 0);
    EXPECT_NE(json.find(std::string("\"end\": \"") + word + "\""), std::string::npos) << word;
    EXPECT_EQ(json.find("\"signal\""), std::string::npos) << word;
  }
}

}  // namespace
}  // namespace leakscope::viewer
