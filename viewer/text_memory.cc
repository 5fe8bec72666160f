// The "Memory" section: what the RSS is made of (memory_breakdown.h), so the
// reader sees at a glance whether growth is a heap leak, fragmentation, or
// memory outside malloc.
#include <cstdio>

#include "human_units.h"
#include "memory_breakdown.h"
#include "text_report.h"

namespace leakscope::viewer {
namespace {

std::string Row(const TextStyle& style, const char* label, uint64_t bytes,
                const std::string& what) {
  char line[64];
  snprintf(line, sizeof line, "  %-20s %10s  ", label, HumanBytes(bytes).c_str());
  return style.Bold(line) + what + "\n";
}

std::string Seconds(uint64_t ns) {
  char s[32];
  snprintf(s, sizeof s, "%.1f s", double(ns) / 1e9);
  return s;
}

std::string Verdict(const report::Report& report) {
  int64_t grew = 0;
  uint64_t over_ns = 0;
  const std::string kind = GrowthKind(report, &grew, &over_ns);
  if (kind.empty()) return "";
  const std::string by = "+" + HumanBytes(uint64_t(grew)) + " over " + Seconds(over_ns);
  if (kind == "heap") return "  Growth: live heap " + by + ": a heap leak (see the sites below)\n";
  if (kind == "allocator")
    return "  Growth: allocator-held " + by +
           ": fragmentation (memory freed but kept by the allocator), not live blocks\n";
  if (report.mappings().live_bytes() > 0)
    return "  Growth: outside malloc " + by +
           ": the program's mappings (see Mappings below), stacks or other anonymous memory\n";
  return "  Growth: outside malloc " + by + ": mmap, stacks or other anonymous memory\n";
}

}  // namespace

std::string RenderMemory(const report::Report& report, const TextStyle& style) {
  const MemoryBreakdown b = BreakdownOf(report);
  if (!b.known) return "";
  std::string out = style.Bold("Memory") + ": RSS " + HumanBytes(b.rss) + " at " +
                    Seconds(b.time_ns) + (b.maps_known ? "" : " (smaps not readable)") + "\n";
  out += Row(style, "live heap", b.live_heap, "the sites below (tracked)");
  if (b.allocator_known && b.allocator_free == 0 && b.allocator_releasable == 0 &&
      std::string(b.allocator) == "mimalloc") {
    out += Row(style, "allocator-held", b.allocator_overhead,
               "committed by mimalloc beyond the live heap (free and overhead)");
  } else if (b.allocator_known) {
    out += Row(style, "allocator overhead", b.allocator_overhead,
               "headers, rounding, blocks from before tracing");
    out += Row(style, "allocator free", b.allocator_free,
               std::string("freed, kept by ") + b.allocator + " (" +
                   HumanBytes(b.allocator_releasable) + " releasable at the top)");
  }
  if (b.maps_known) {
    if (report.has_mappings())
      out += Row(style, "program mappings", b.program_mappings,
                 "the program's mmaps (" + HumanBytes(b.program_mappings_mapped) +
                     " mapped; see Mappings below)");
    out += Row(style, "other anonymous", b.other_anonymous,
               report.has_mappings() ? "outside malloc: other allocators, the C library's mmaps"
                                     : "outside malloc: mmap, other allocators");
    out += Row(style, "stacks", b.stacks,
               "[stack] and " + CountOf(b.thread_stacks, "thread stack", "thread stacks"));
    out += Row(style, "file mappings", b.file, "code, data, mapped files, shared memory");
  }
  return out + Verdict(report);
}

}  // namespace leakscope::viewer
