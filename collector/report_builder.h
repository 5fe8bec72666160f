// ProcessState -> report.Report: process identity and how it ended, totals,
// and the sites symbolized, trimmed of allocator frames, merged when their
// frames are equal and sorted by live bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "call_site.h"
#include "process_state.h"
#include "report.pb.h"
#include "symbolizer.h"
#include "timeline.h"

namespace leakscope::collector {

struct ReportContext {
  std::optional<int> wait_status;  // from waitpid(), via Server::RecordExit
  bool running = false;            // a snapshot: the stream is still open
  uint64_t end_time_unix_ns = 0;   // when the stream ended (or the snapshot time)
  uint64_t written_unix_ns = 0;
  // Its points and the growth suspects found in them go into the report.
  const Timeline* timeline = nullptr;
};

// Frames for one call-site address (return address - 1), innermost first.
using SymbolizeFn = std::function<const std::vector<SymbolizedFrame>&(uint64_t pc)>;

report::Report BuildReport(const ProcessState& state, const ReportContext& context,
                           const SymbolizeFn& symbolize);

// Symbolizes with a fresh Symbolizer that knows every module the process had.
report::Report BuildReport(const ProcessState& state, const ReportContext& context);

// Marks the report EXITED or SIGNALED from a waitpid() status.
void ApplyWaitStatus(int wait_status, report::Report* report);

// The shared rules of proto/call_site.h for the collector's frames.
callsite::FrameRef Ref(const SymbolizedFrame& frame);
std::vector<callsite::FrameRef> Refs(const std::vector<SymbolizedFrame>& frames);
// True for a frame that belongs to the allocator rather than the call site:
// the shim itself, malloc and friends, operator new.
bool IsAllocatorFrame(const SymbolizedFrame& frame);
// True for a frame in the shim (libleakscope.so).
bool IsShimFrame(const SymbolizedFrame& frame);

// A site's frames as its report shows them: each return address symbolized
// (inlined frames first), the allocator's frames in front and the shim's
// deeper in left out.
std::vector<SymbolizedFrame> SiteFrames(const std::vector<uint64_t>& pcs,
                                        const SymbolizeFn& symbolize);

}  // namespace leakscope::collector
