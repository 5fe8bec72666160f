// Which frame of a stack is the program's *call site*, and the site id: the
// one rule behind the report's one-line rows, `leakscope check` lines,
// GoogleTest failures (collector/query_handler.cc) and the `site` and
// `site_id` labels of /metrics (collector/process_metrics.cc). The collector
// and the viewer see frames as different types; both hand them in as
// FrameRef, so neither can drift from the other.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace leakscope::callsite {

// One symbolized frame, innermost first in a stack. `module` is a path.
struct FrameRef {
  std::string_view function;  // demangled; empty if unknown
  std::string_view file;
  uint32_t line = 0;
  std::string_view module;
  uint64_t module_offset = 0;  // only used when function is empty (0 if not known)
};

// The shim's own frames (libleakscope*.so): plumbing, never the program's.
bool IsShimFrame(const FrameRef& f);

// malloc and its family, operator new/new[], the in-process API's pool hook,
// and the shim.
bool IsAllocatorFrame(const FrameRef& f);

// Library code between the program and the allocator: std:: and __gnu_cxx::
// functions (inlined into the program too), and any frame of libstdc++, libc,
// libm, libgcc_s or the dynamic loader.
bool IsLibraryFrame(const FrameRef& f);

// Index of the call site in `frames` (innermost first): the first frame that
// is neither allocator nor library. A stack that is library code throughout
// (a runtime internal) has its first non-allocator frame; -1 for no frames.
int CallSiteIndex(const std::vector<FrameRef>& frames);

// The site id: 8 hex digits, a hash (FNV-1a, 64 bits folded to 32) of the
// call-site frame and every frame outward of it, each by function, file
// name, line and module name (module name and offset when it has no
// function), and of the library frames inside the call by function name
// alone (a string built in place and one copied from another are two
// sites). Allocator and shim frames are left out. No addresses and no
// directories: the same code has the same id in every run, under ASLR and
// in another checkout; an edit that moves the call site's line or a
// caller's changes it. "" for no frames.
std::string SiteId(const std::vector<FrameRef>& frames);

// A frame in one short line, for /metrics labels and GoogleTest failures:
// "function file:line" with template arguments shortened
// ("Store<...>::Add(Item const&) store.cc:42"), "function" without a file,
// "module+0xoffset" without a function.
std::string Label(const FrameRef& f);

// The last component of a path.
std::string_view BaseName(std::string_view path);

}  // namespace leakscope::callsite
