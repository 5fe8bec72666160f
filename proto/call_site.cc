#include "call_site.h"

#include <cstdio>

#include "cxx_names.h"

namespace leakscope::callsite {
namespace {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// Shared objects of the C and C++ runtimes, by file name ("libc.so.6").
bool IsRuntimeModule(std::string_view module) {
  const std::string_view name = BaseName(module);
  static constexpr std::string_view kRuntime[] = {"libc.so",     "libstdc++.so", "libm.so",
                                                  "libgcc_s.so", "ld-linux",     "libpthread.so",
                                                  "libc++.so",   "libc++abi.so"};
  for (std::string_view r : kRuntime)
    if (StartsWith(name, r)) return true;
  return false;
}

// FNV-1a, 64 bits: defined here, so the id never depends on a library's hash.
struct Fnv {
  uint64_t h = 0xcbf29ce484222325ull;
  void Add(std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ull;
    }
    h ^= 0xff;  // a separator no text holds, so ("ab","c") != ("a","bc")
    h *= 0x100000001b3ull;
  }
};

}  // namespace

std::string_view BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool IsShimFrame(const FrameRef& f) {
  const std::string_view name = BaseName(f.module);
  // The shim (libleakscope.so, or an installed libleakscope.so.N), not any
  // library whose name merely starts the same way.
  return name == "libleakscope.so" || StartsWith(name, "libleakscope.so.");
}

bool IsAllocatorFrame(const FrameRef& f) {
  if (IsShimFrame(f)) return true;
  static constexpr std::string_view kAllocators[] = {
      "malloc", "calloc", "realloc", "free", "posix_memalign", "aligned_alloc", "memalign",
      "valloc", "pvalloc", "reallocarray",
      // in-process API wrappers, inlined into a pool allocator
      "leakscope_report_alloc"};
  for (std::string_view name : kAllocators)
    if (f.function == name) return true;
  return StartsWith(f.function, "operator new(") || StartsWith(f.function, "operator new[](");
}

bool IsLibraryFrame(const FrameRef& f) {
  if (IsRuntimeModule(f.module)) return true;
  const std::string_view name = cxxnames::QualifiedName(f.function);
  return StartsWith(name, "std::") || StartsWith(name, "__gnu_cxx::");
}

int CallSiteIndex(const std::vector<FrameRef>& frames) {
  for (size_t i = 0; i < frames.size(); ++i)
    if (!IsAllocatorFrame(frames[i]) && !IsLibraryFrame(frames[i])) return static_cast<int>(i);
  for (size_t i = 0; i < frames.size(); ++i)
    if (!IsAllocatorFrame(frames[i])) return static_cast<int>(i);
  return frames.empty() ? -1 : 0;
}

std::string Label(const FrameRef& f) {
  if (f.function.empty()) {
    char offset[32];
    std::snprintf(offset, sizeof offset, "+0x%llx",
                  static_cast<unsigned long long>(f.module_offset));
    return std::string(BaseName(f.module)) + offset;
  }
  std::string out = cxxnames::ShortenTemplates(f.function);
  if (!f.file.empty()) {
    out += " ";
    out += BaseName(f.file);
    if (f.line != 0) out += ":" + std::to_string(f.line);
  }
  return out;
}

std::string SiteId(const std::vector<FrameRef>& frames) {
  const int call = CallSiteIndex(frames);
  if (call < 0) return "";
  Fnv fnv;
  for (size_t i = 0; i < frames.size(); ++i) {
    const FrameRef& f = frames[i];
    // The report leaves the allocator's frames and the shim's out, or keeps
    // some: they never count.
    if (IsAllocatorFrame(f)) continue;
    if (i < static_cast<size_t>(call)) {
      // The way through the library, by name only: its headers' lines
      // change with the compiler's version, the path it takes does not.
      fnv.Add("<");
      fnv.Add(f.function);
    } else if (f.function.empty()) {
      fnv.Add(BaseName(f.module));
      fnv.Add(std::to_string(f.module_offset));
    } else {
      fnv.Add(f.function);
      fnv.Add(BaseName(f.file));
      fnv.Add(std::to_string(f.line));
      fnv.Add(BaseName(f.module));
    }
  }
  char id[9];
  std::snprintf(id, sizeof id, "%08x", static_cast<unsigned>((fnv.h >> 32) ^ fnv.h));
  return id;
}

}  // namespace leakscope::callsite
