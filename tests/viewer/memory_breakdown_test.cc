// "Why RSS is not the heap", end to end: memory_kinds.c run under the real
// shim (`leakscope run`), its report's Memory figures (the shim's mallinfo2()
// and /proc/self/smaps at exit), and the text and JSON sections built on them.
#include "memory_breakdown.h"

#include <gtest/gtest.h>

#include "cli_runner.h"
#include "report_file.h"

namespace leakscope::viewer {
namespace {

using testing::CliResult;
using testing::RunLeakscope;
using testing::TempDir;

constexpr uint64_t kKiB = 1024, kMiB = 1024 * 1024;

struct KindRun {
  report::Report report;
  std::string text, json;
};

KindRun RunKind(const std::string& mode) {
  TempDir out;
  KindRun run;
  const CliResult r = RunLeakscope({"run", "-o", out.path(), "--", MEMORY_KINDS, mode});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  const std::vector<std::string> files = out.Files();
  EXPECT_EQ(files.size(), 1u);
  if (files.size() != 1) return run;
  const std::string path = out.path() + "/" + files[0];
  std::string error;
  EXPECT_TRUE(report::ReadReportFile(path, &run.report, &error)) << error;
  run.text = RunLeakscope({"report", path}).out;
  run.json = RunLeakscope({"report", path, "--json"}).out;
  return run;
}

TEST(RssExplained, HeapLeakIsLiveHeap) {
  const KindRun run = RunKind("heap");
  const MemoryBreakdown b = BreakdownOf(run.report);
  ASSERT_TRUE(b.known);
  ASSERT_TRUE(b.allocator_known);
  ASSERT_TRUE(b.maps_known);
  EXPECT_STREQ(b.allocator, "glibc malloc");
  EXPECT_EQ(b.live_heap, 64 * 64 * kKiB);
  // 64 chunk headers and glibc's own few blocks; the top chunk is free.
  EXPECT_LT(b.allocator_overhead, 64 * kKiB);
  EXPECT_LT(b.allocator_free, 1 * kMiB);
  EXPECT_GE(b.rss, b.live_heap);
  EXPECT_GE(run.report.memory().anonymous_bytes(), b.live_heap);
  EXPECT_NE(run.text.find("Memory: RSS "), std::string::npos) << run.text;
  EXPECT_NE(run.text.find("  live heap               4.0 MiB  the sites below (tracked)\n"),
            std::string::npos)
      << run.text;
  EXPECT_NE(run.json.find("\"live_heap_bytes\": 4194304,"), std::string::npos) << run.json;
}

TEST(RssExplained, FragmentationIsAllocatorFree) {
  const KindRun run = RunKind("frag");
  const MemoryBreakdown b = BreakdownOf(run.report);
  ASSERT_TRUE(b.allocator_known);
  EXPECT_EQ(b.live_heap, 1024u * 4000u);
  // 3072 x 4000 B freed between live blocks: kept, but for the few freed
  // after the last live block, which joined the top chunk (trimmed or not).
  EXPECT_GE(b.allocator_free, 3069u * 4000u);
  EXPECT_LT(b.allocator_overhead, 128 * kKiB);
  EXPECT_GE(b.rss, 16000u * kKiB);  // every block was written
  EXPECT_NE(run.text.find("  allocator free  "), std::string::npos) << run.text;
  EXPECT_NE(run.json.find("\"live_heap_bytes\": 4096000,"), std::string::npos) << run.json;
}

TEST(RssExplained, ThreadStacksAreFoundInSmaps) {
  const KindRun run = RunKind("threads");
  const MemoryBreakdown b = BreakdownOf(run.report);
  ASSERT_TRUE(b.maps_known);
  // The program's 4 threads and the shim's drain thread.
  EXPECT_EQ(b.thread_stacks, 5u);
  EXPECT_GE(b.stacks, 4 * 64 * kKiB);
  EXPECT_NE(run.text.find("[stack] and 5 thread stacks"), std::string::npos) << run.text;
  EXPECT_NE(run.json.find("\"thread_stacks\": 5,"), std::string::npos) << run.json;
}

TEST(RssExplained, TheProgramsMappingsAreTheirOwnLineNotOtherAnonymous) {
  const KindRun run = RunKind("mmap");
  const MemoryBreakdown b = BreakdownOf(run.report);
  ASSERT_TRUE(b.maps_known);
  EXPECT_EQ(run.report.mappings().live_bytes(), 7 * 256 * kKiB);
  EXPECT_EQ(run.report.mappings().live_mappings(), 7u);
  EXPECT_EQ(run.report.mappings().mappings(), 8u);
  // Written whole: resident, within the anonymous memory outside malloc.
  EXPECT_EQ(b.program_mappings, 7 * 256 * kKiB);
  EXPECT_EQ(b.live_heap, 0u);
  EXPECT_NE(run.text.find("  program mappings        1.8 MiB  the program's mmaps (1.8 MiB mapped; "
                          "see Mappings below)\n"),
            std::string::npos)
      << run.text;
  EXPECT_NE(run.text.find("Mappings by call site (1 of 1 site): 1.8 MiB in 7 mappings live, of 8 "
                          "mmap calls"),
            std::string::npos)
      << run.text;
  EXPECT_NE(run.json.find("\"program_mappings_bytes\": 1835008,"), std::string::npos) << run.json;
}

}  // namespace
}  // namespace leakscope::viewer
