#include "memory_breakdown.h"

#include <algorithm>

namespace leakscope::viewer {
namespace {

constexpr int64_t kNoticeableGrowth = 1 << 20;

uint64_t Minus(uint64_t a, uint64_t b) {
  return a > b ? a - b : 0;
}

// The three parts of anonymous memory GrowthKind compares, at one point.
struct Parts {
  int64_t heap, allocator, outside;
};

// What the allocator's figures cover, resident: glibc's blocks in use and
// free chunks; mimalloc's commit (it says nothing of in use and free), at
// most the anonymous memory (committed is not resident) and at least the
// live heap.
uint64_t MallocTotal(uint64_t in_use, uint64_t free, uint64_t mapped, uint64_t live,
                     uint64_t anonymous, bool maps_known) {
  if (in_use || free) return in_use + free;
  const uint64_t committed = maps_known ? std::min(mapped, anonymous) : mapped;
  return std::max(committed, live);
}

Parts PartsAt(const report::TimelinePoint& p) {
  const uint64_t malloc_total =
      MallocTotal(p.allocator_in_use_bytes(), p.allocator_free_bytes(), p.allocator_mapped_bytes(),
                  p.live_bytes(), p.anonymous_bytes(), true);
  const uint64_t held = Minus(malloc_total, p.live_bytes());
  const uint64_t outside = Minus(p.anonymous_bytes(), malloc_total) + p.stack_bytes();
  return {int64_t(p.live_bytes()), int64_t(held), int64_t(outside)};
}

}  // namespace

MemoryBreakdown BreakdownOf(const report::Report& report) {
  MemoryBreakdown b;
  b.live_heap = report.totals().live_bytes();
  b.rss = report.rss_bytes();
  if (!report.has_memory()) return b;
  const report::Memory& m = report.memory();
  b.known = true;
  b.time_ns = m.time_ns();
  b.allocator_known = m.allocator() != 0;
  b.maps_known = m.maps_read();
  uint64_t malloc_total = 0;  // what the allocator's figures cover
  if (m.allocator() == 1) {
    b.allocator = "glibc malloc";
    b.allocator_overhead = Minus(m.allocator_in_use_bytes(), b.live_heap);
    b.allocator_free = m.allocator_free_bytes();
    b.allocator_releasable = m.allocator_releasable_bytes();
    malloc_total = m.allocator_in_use_bytes() + m.allocator_free_bytes();
  } else if (m.allocator() == 2) {
    b.allocator = "mimalloc";
    // Its commit is capped at the anonymous memory; the program's own
    // mappings (known exactly) are not mimalloc's.
    const uint64_t anonymous =
        Minus(m.anonymous_bytes(), std::min(report.mappings().live_bytes(), m.anonymous_bytes()));
    malloc_total =
        MallocTotal(0, 0, m.allocator_mapped_bytes(), b.live_heap, anonymous, m.maps_read());
    b.allocator_overhead = Minus(malloc_total, b.live_heap);
  } else {
    malloc_total = b.live_heap;
  }
  if (b.maps_known) {
    b.rss = m.rss_bytes();
    b.other_anonymous = Minus(m.anonymous_bytes(), malloc_total);
    // The program's mappings are part of it: mapped sizes, so at most all of it.
    b.program_mappings_mapped = report.mappings().live_bytes();
    b.program_mappings = std::min(b.program_mappings_mapped, b.other_anonymous);
    b.other_anonymous -= b.program_mappings;
    b.stacks = m.stack_bytes();
    b.thread_stacks = m.thread_stacks();
    b.file = m.file_bytes();
  }
  return b;
}

std::string GrowthKind(const report::Report& report, int64_t* grew, uint64_t* over_ns) {
  const report::TimelinePoint* first = nullptr;
  const report::TimelinePoint* last = nullptr;
  for (const report::TimelinePoint& p : report.timeline()) {
    if (!p.memory_known()) continue;
    if (!first) first = &p;
    last = &p;
  }
  if (!first || first == last) return "";
  const Parts a = PartsAt(*first), b = PartsAt(*last);
  const int64_t heap = b.heap - a.heap, held = b.allocator - a.allocator,
                outside = b.outside - a.outside;
  *over_ns = last->time_ns() - first->time_ns();
  *grew = std::max({heap, held, outside});
  if (*grew < kNoticeableGrowth) return "";
  if (*grew == heap) return "heap";
  if (*grew == held) return "allocator";
  return "outside";
}

}  // namespace leakscope::viewer
