// Integrity in every view: dropped events, events lost in signal handlers,
// unmatched frees, a killed process's last events, and sampling, each shown
// the same way by the text (one line), the JSON (one object), the HTML page
// and `check`'s lines, on ServerReport (see sample_reports.cc).
#include "integrity.h"

#include <gtest/gtest.h>

#include "html_report.h"
#include "json_report.h"
#include "sample_reports.h"
#include "text_report.h"

namespace leakscope::viewer {
namespace {

using testing::ServerReport;

struct Figures {
  uint64_t dropped = 0, reentrant = 0, unmatched = 0, missing_ms = 0, interval = 1;
};

report::Report With(const Figures& f) {
  report::Report r = ServerReport();
  r.set_dropped_events(f.dropped);
  r.set_reentrant_events(f.reentrant);
  r.mutable_totals()->set_unmatched_frees(f.unmatched);
  r.mutable_totals()->set_possibly_missing_ms(f.missing_ms);
  r.set_sampling_interval_bytes(f.interval);
  return r;
}

// One figure set, the others as in a complete report.
Figures Dropped(uint64_t n) {
  return {n, 0, 0, 0, 1};
}
Figures Reentrant(uint64_t n) {
  return {0, n, 0, 0, 1};
}
Figures Unmatched(uint64_t n) {
  return {0, 0, n, 0, 1};
}
Figures MissingMs(uint64_t ms) {
  return {0, 0, 0, ms, 1};
}
Figures Sampled(uint64_t interval) {
  return {0, 0, 0, 0, interval};
}

// The summary's last lines: Sampling, then Integrity, then the sections.
std::string IntegrityLine(const report::Report& r) {
  const std::string text = RenderTextReport(r, TextOptions{});
  const size_t start = text.find("Integrity    ");
  if (start == std::string::npos) return "(none in:\n" + text + ")";
  return text.substr(start, text.find('\n', start) + 1 - start);
}

TEST(IntegrityText, OneLineForEachCase) {
  EXPECT_EQ(IntegrityLine(With(Figures{})),
            "Integrity    complete: every allocation and free recorded\n");
  EXPECT_EQ(IntegrityLine(With(Sampled(4096))),
            "Integrity    nothing lost, but sampled (one per 4.0 KiB): figures are estimates, "
            "small leaks may be missed\n");
  EXPECT_EQ(IntegrityLine(With(Dropped(5))),
            "Integrity    INCOMPLETE: 5 events dropped (ring full or collector unreachable)\n");
  EXPECT_EQ(IntegrityLine(With(Reentrant(1))),
            "Integrity    INCOMPLETE: 1 event lost in signal handlers\n");
  EXPECT_EQ(IntegrityLine(With(Unmatched(3))),
            "Integrity    INCOMPLETE: 3 frees of blocks never seen allocated\n");
  EXPECT_EQ(IntegrityLine(With(MissingMs(40))),
            "Integrity    INCOMPLETE: the last 40 ms of events before the process was killed "
            "may be missing\n");
  EXPECT_EQ(IntegrityLine(With(Figures{2000, 2, 1, 1500, 524288})),
            "Integrity    INCOMPLETE: 2,000 events dropped (ring full or collector unreachable), "
            "2 events lost in signal handlers, 1 free of blocks never seen allocated, the last "
            "1,500 ms of events before the process was killed may be missing; sampled (one per "
            "512.0 KiB): figures are estimates, small leaks may be missed\n");
}

TEST(IntegrityText, FollowsSamplingInTheSummaryAndIsLoudOnlyWhenSomethingIsLost) {
  const std::string text = RenderTextReport(With(Dropped(5)), TextOptions{});
  EXPECT_NE(text.find("Allocations  1,500 (3.0 MiB), 256 frees\n"
                      "Sampling     every allocation recorded\n"
                      "Integrity    INCOMPLETE: 5 events dropped (ring full or collector "
                      "unreachable)\n\nSurviving allocations"),
            std::string::npos)
      << text;
  TextOptions color;
  color.color = true;
  EXPECT_NE(RenderTextReport(With(Dropped(5)), color)
                .find("\033[1mIntegrity    \033[0m\033[1;31mINCOMPLETE: 5 events dropped"),
            std::string::npos);
  EXPECT_NE(RenderTextReport(With(Sampled(4096)), color)
                .find("\033[1mIntegrity    \033[0mnothing lost, but sampled"),
            std::string::npos);
}

// The JSON object: "complete" is what check --require-complete asks for.
std::string IntegrityJson(const report::Report& r) {
  const std::string json = RenderJsonReport(r, 0);
  const size_t start = json.find("  \"integrity\": {\n");
  if (start == std::string::npos) return "(none in:\n" + json + ")";
  return json.substr(start, json.find("  },\n", start) + 5 - start);
}

TEST(IntegrityJson, ObjectForEachCase) {
  EXPECT_EQ(IntegrityJson(With(Figures{})), R"json(  "integrity": {
    "complete": true,
    "sampled": false,
    "dropped_events": 0,
    "reentrant_events": 0,
    "unmatched_frees": 0,
    "possibly_missing_ms": 0,
    "summary": "complete: every allocation and free recorded"
  },
)json");
  EXPECT_EQ(IntegrityJson(With(Sampled(4096))), R"json(  "integrity": {
    "complete": false,
    "sampled": true,
    "dropped_events": 0,
    "reentrant_events": 0,
    "unmatched_frees": 0,
    "possibly_missing_ms": 0,
    "summary": "nothing lost, but sampled (one per 4.0 KiB): figures are estimates, small leaks may be missed"
  },
)json");
  EXPECT_EQ(IntegrityJson(With(Figures{5, 1, 3, 40, 1})), R"json(  "integrity": {
    "complete": false,
    "sampled": false,
    "dropped_events": 5,
    "reentrant_events": 1,
    "unmatched_frees": 3,
    "possibly_missing_ms": 40,
    "summary": "INCOMPLETE: 5 events dropped (ring full or collector unreachable), 1 event lost in signal handlers, 3 frees of blocks never seen allocated, the last 40 ms of events before the process was killed may be missing"
  },
)json");
}

TEST(IntegrityJson, ComesAfterTheEventCountsItSumsUp) {
  const std::string json = RenderJsonReport(With(Dropped(5)), 0);
  EXPECT_NE(json.find("  \"dropped_events\": 5,\n  \"reentrant_events\": 0,\n  \"integrity\": {\n"),
            std::string::npos)
      << json;
}

TEST(IntegrityHtml, SummaryLineAndFlagsForThePage) {
  const std::string complete = HtmlPageData(With(Figures{}), SiteFilter{});
  EXPECT_NE(complete.find("[\n      \"Sampling\",\n      \"every allocation\"\n    ],\n    [\n"
                          "      \"Integrity\",\n"
                          "      \"complete: every allocation and free recorded\"\n    ]\n  ],\n"
                          "  \"integrity\": {\n    \"complete\": true,\n"
                          "    \"nothing_lost\": true\n  },\n"),
            std::string::npos)
      << complete;
  EXPECT_EQ(complete.find("Dropped events"), std::string::npos);  // part of Integrity now
  const std::string killed = HtmlPageData(With(MissingMs(40)), SiteFilter{});
  EXPECT_NE(killed.find("      \"Integrity\",\n      \"INCOMPLETE: the last 40 ms of events "
                        "before the process was killed may be missing\"\n"),
            std::string::npos)
      << killed;
  EXPECT_NE(killed.find("  \"integrity\": {\n    \"complete\": false,\n"
                        "    \"nothing_lost\": false\n  },\n"),
            std::string::npos);
  const std::string sampled = HtmlPageData(With(Sampled(4096)), SiteFilter{});
  EXPECT_NE(sampled.find("  \"integrity\": {\n    \"complete\": false,\n"
                         "    \"nothing_lost\": true\n  },\n"),
            std::string::npos);
}

TEST(IntegrityVerdict, WarnsOrFailsPerProblem) {
  const IntegrityVerdict complete = EvaluateIntegrity(IntegrityOf(With(Figures{})), true);
  EXPECT_TRUE(complete.pass);
  EXPECT_TRUE(complete.lines.empty());

  const Integrity both = IntegrityOf(With(Figures{5, 0, 0, 0, 4096}));
  const IntegrityVerdict warned = EvaluateIntegrity(both, false);
  EXPECT_TRUE(warned.pass);
  EXPECT_EQ(warned.lines,
            (std::vector<std::string>{
                "warning: figures incomplete: 5 events dropped (ring full or collector "
                "unreachable)",
                "warning: sampled (one per 4.0 KiB): figures are estimates, small leaks may be "
                "missed"}));
  const IntegrityVerdict failed = EvaluateIntegrity(both, true);
  EXPECT_FALSE(failed.pass);
  EXPECT_EQ(failed.lines,
            (std::vector<std::string>{
                "FAIL (--require-complete): figures incomplete: 5 events dropped (ring full or "
                "collector unreachable)",
                "FAIL (--require-complete): sampled (one per 4.0 KiB): figures are estimates, "
                "small leaks may be missed"}));
}

}  // namespace
}  // namespace leakscope::viewer
