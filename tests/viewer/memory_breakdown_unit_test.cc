// The RSS breakdown and growth verdict from report figures (memory_breakdown.h).
#include <gtest/gtest.h>

#include "memory_breakdown.h"
#include "text_report.h"

namespace leakscope::viewer {
namespace {

constexpr uint64_t kMiB = 1 << 20;

report::Report WithMemory() {
  report::Report r;
  r.mutable_totals()->set_live_bytes(10 * kMiB);
  report::Memory* m = r.mutable_memory();
  m->set_time_ns(5'000'000'000);
  m->set_allocator(1);
  m->set_allocator_in_use_bytes(11 * kMiB);
  m->set_allocator_free_bytes(20 * kMiB);
  m->set_allocator_releasable_bytes(kMiB);
  m->set_maps_read(true);
  m->set_rss_bytes(50 * kMiB);
  m->set_anonymous_bytes(40 * kMiB);
  m->set_stack_bytes(3 * kMiB);
  m->set_file_bytes(7 * kMiB);
  m->set_thread_stacks(2);
  return r;
}

// A point of the timeline with live bytes and the memory figures.
void AddPoint(report::Report* r, uint64_t t_s, uint64_t live, uint64_t in_use, uint64_t free,
              uint64_t anon, uint64_t stack) {
  report::TimelinePoint* p = r->add_timeline();
  p->set_time_ns(t_s * 1'000'000'000);
  p->set_live_bytes(live);
  p->set_memory_known(true);
  p->set_allocator_in_use_bytes(in_use);
  p->set_allocator_free_bytes(free);
  p->set_anonymous_bytes(anon);
  p->set_stack_bytes(stack);
}

TEST(MemoryBreakdownUnit, SplitsRssIntoHeapAllocatorAndOutside) {
  const MemoryBreakdown b = BreakdownOf(WithMemory());
  ASSERT_TRUE(b.known);
  EXPECT_EQ(b.rss, 50 * kMiB);
  EXPECT_EQ(b.live_heap, 10 * kMiB);
  EXPECT_EQ(b.allocator_overhead, 1 * kMiB);
  EXPECT_EQ(b.allocator_free, 20 * kMiB);
  EXPECT_EQ(b.other_anonymous, 40 * kMiB - 31 * kMiB);
  EXPECT_EQ(b.stacks, 3 * kMiB);
  EXPECT_EQ(b.file, 7 * kMiB);
}

TEST(MemoryBreakdownUnit, MimallocCommitBeyondTheLiveHeapIsAllocatorHeld) {
  report::Report r = WithMemory();
  r.mutable_memory()->set_allocator(2);
  r.mutable_memory()->set_allocator_in_use_bytes(0);
  r.mutable_memory()->set_allocator_free_bytes(0);
  r.mutable_memory()->set_allocator_releasable_bytes(0);
  r.mutable_memory()->set_allocator_mapped_bytes(16 * kMiB);
  const MemoryBreakdown b = BreakdownOf(r);
  EXPECT_STREQ(b.allocator, "mimalloc");
  EXPECT_EQ(b.allocator_overhead, 6 * kMiB);
  EXPECT_EQ(b.other_anonymous, 24 * kMiB);
  // Committed beyond what is resident: only the resident part counts.
  r.mutable_memory()->set_allocator_mapped_bytes(64 * kMiB);
  EXPECT_EQ(BreakdownOf(r).allocator_overhead, 30 * kMiB);
  EXPECT_EQ(BreakdownOf(r).other_anonymous, 0u);
}

TEST(MemoryBreakdownUnit, NoFiguresNoSection) {
  report::Report r;
  EXPECT_FALSE(BreakdownOf(r).known);
  EXPECT_EQ(RenderMemory(r, TextStyle(false, false, 0)), "");
}

TEST(MemoryBreakdownUnit, GrowthIsNamedByThePartThatGrewMost) {
  int64_t grew = 0;
  uint64_t over = 0;
  report::Report leak = WithMemory();
  AddPoint(&leak, 1, 1 * kMiB, 2 * kMiB, kMiB, 3 * kMiB, kMiB);
  AddPoint(&leak, 11, 9 * kMiB, 10 * kMiB, kMiB, 11 * kMiB, kMiB);
  EXPECT_EQ(GrowthKind(leak, &grew, &over), "heap");
  EXPECT_EQ(grew, int64_t(8 * kMiB));
  EXPECT_EQ(over, 10'000'000'000u);

  report::Report frag = WithMemory();
  AddPoint(&frag, 1, 1 * kMiB, 2 * kMiB, kMiB, 3 * kMiB, kMiB);
  AddPoint(&frag, 11, 1 * kMiB, 2 * kMiB, 9 * kMiB, 11 * kMiB, kMiB);
  EXPECT_EQ(GrowthKind(frag, &grew, &over), "allocator");
  EXPECT_EQ(grew, int64_t(8 * kMiB));

  report::Report outside = WithMemory();
  AddPoint(&outside, 1, 1 * kMiB, 2 * kMiB, kMiB, 3 * kMiB, kMiB);
  AddPoint(&outside, 11, 1 * kMiB, 2 * kMiB, kMiB, 8 * kMiB, 4 * kMiB);
  EXPECT_EQ(GrowthKind(outside, &grew, &over), "outside");
  EXPECT_EQ(grew, int64_t(8 * kMiB));
  const std::string text = RenderMemory(outside, TextStyle(false, false, 0));
  EXPECT_NE(text.find("  Growth: outside malloc +8.0 MiB over 10.0 s: "), std::string::npos)
      << text;

  report::Report flat = WithMemory();
  AddPoint(&flat, 1, 1 * kMiB, 2 * kMiB, kMiB, 3 * kMiB, kMiB);
  AddPoint(&flat, 11, 1 * kMiB + 1000, 2 * kMiB, kMiB, 3 * kMiB, kMiB);
  EXPECT_EQ(GrowthKind(flat, &grew, &over), "");
}

TEST(MemoryBreakdownUnit, TextSectionShowsEachPart) {
  const std::string text = RenderMemory(WithMemory(), TextStyle(false, false, 0));
  EXPECT_EQ(text,
            "Memory: RSS 50.0 MiB at 5.0 s\n"
            "  live heap              10.0 MiB  the sites below (tracked)\n"
            "  allocator overhead      1.0 MiB  headers, rounding, blocks from before tracing\n"
            "  allocator free         20.0 MiB  freed, kept by glibc malloc (1.0 MiB releasable "
            "at the top)\n"
            "  other anonymous         9.0 MiB  outside malloc: mmap, other allocators\n"
            "  stacks                  3.0 MiB  [stack] and 2 thread stacks\n"
            "  file mappings           7.0 MiB  code, data, mapped files, shared memory\n");
}

}  // namespace
}  // namespace leakscope::viewer
