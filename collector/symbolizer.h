// Turns return addresses into report frames with elfutils' libdw: demangled
// function, file, line, module, and the chain of inlined calls at that
// address. Falls back to "module+0xoffset" when there is no symbol or debug
// info, and to "0x<pc>" when the address is in no known module.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace leakscope::collector {

// A loaded ELF object as the shim saw it (wire.Module).
struct ModuleInfo {
  std::string path;
  uint64_t load_bias = 0;
  std::vector<std::pair<uint64_t, uint64_t>> exec_ranges;  // [start, end), absolute
  std::string build_id;  // raw bytes
};

struct SymbolizedFrame {
  std::string function;  // demangled; empty if unknown
  std::string file;      // source file, as recorded in DWARF (absolute when known)
  uint32_t line = 0;
  std::string module;    // module path
  bool inlined = false;  // an inlined call site inside the next (outer) frame
  uint64_t module_offset = 0;  // pc - load_bias
};

class Symbolizer {
 public:
  Symbolizer();
  ~Symbolizer();
  Symbolizer(const Symbolizer&) = delete;
  Symbolizer& operator=(const Symbolizer&) = delete;

  // Registers a module. A module that is already known (same path and bias) is
  // ignored. Modules stay known after dlclose: a stack keeps its meaning.
  void AddModule(const ModuleInfo& module);

  // Frames for one call-site address `pc` (a return address minus one, as
  // the caller computes), innermost first: the inlined frames (inlined=true)
  // followed by the function that contains them (inlined=false). Never
  // empty. Results are cached per pc.
  const std::vector<SymbolizedFrame>& Symbolize(uint64_t pc);

  // Queues the call sites of these return addresses for the process's one
  // prewarm thread (started at the first call, kept; shared by every
  // Symbolizer), which symbolizes them, opening their modules (decompressing
  // libc's debug info alone takes ~25 ms), so that a report written when the
  // process ends does not wait for it. Never waits for that work.
  // Symbolize() of a pc not cached yet waits until none of this
  // symbolizer's pcs is queued, and its results are cached. Addresses seen
  // before are skipped. Destroying the symbolizer drops its queued pcs.
  void Prewarm(const uint64_t* return_addresses, size_t n);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace leakscope::collector
