// Why RSS is not the heap: a report's RSS split into what leakscope tracks
// (the live heap), what the allocator keeps around it, and what lies outside
// malloc (report.Memory, from the shim's mallinfo2()/mi_process_info() and
// /proc/self/smaps), and which of them grew. Shared by the text and JSON
// reports.
#pragma once

#include <cstdint>
#include <string>

#include "report.pb.h"

namespace leakscope::viewer {

struct MemoryBreakdown {
  bool known = false;            // the report has report.Memory
  bool allocator_known = false;  // allocator figures were read
  bool maps_known = false;       // smaps was read
  const char* allocator = "";    // "glibc malloc", "mimalloc"
  uint64_t time_ns = 0;
  uint64_t rss = 0;
  uint64_t live_heap = 0;  // Totals.live_bytes: the sites (estimated when sampled)
  // glibc: blocks in use beyond the live heap (chunk headers, rounding,
  // blocks allocated before tracing began). mimalloc: committed memory not
  // live, at most the anonymous RSS (overhead and free together;
  // allocator_free is then 0).
  uint64_t allocator_overhead = 0;
  uint64_t allocator_free = 0;  // freed, kept by the allocator: fragmentation
  uint64_t allocator_releasable = 0;
  // The program's own mmaps (report.Mappings: mapped, not resident, bytes),
  // at most the anonymous memory outside the allocator's figures; that
  // memory less them is other_anonymous.
  uint64_t program_mappings = 0;
  uint64_t program_mappings_mapped = 0;  // report.Mappings.live_bytes, as mapped
  uint64_t other_anonymous = 0;          // anonymous memory outside the allocator's figures
  uint64_t stacks = 0;
  uint32_t thread_stacks = 0;
  uint64_t file = 0;
};

MemoryBreakdown BreakdownOf(const report::Report& report);

// Which part grew most over the timeline's points with memory figures:
// "heap" (the live heap: a leak), "allocator" (freed memory the allocator
// keeps: fragmentation), "outside" (anonymous memory and stacks outside
// malloc), or "" (less than 1 MiB of growth, or too few points). `grew`:
// by how much, `over_ns`: in how long.
std::string GrowthKind(const report::Report& report, int64_t* grew, uint64_t* over_ns);

}  // namespace leakscope::viewer
