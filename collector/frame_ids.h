// The frames of a report's sites without a copy per site: each return
// address is symbolized once, each of its frames gets an id, and a site is a
// list of ids (SiteIds gives the same frames as SiteFrames). A process such
// as Node.js has ~20,000 sites of ~30 frames each, mostly the same few
// thousand frames: copying and keying every frame of every site (strings of
// demangled names) was most of its report's cost.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "report_builder.h"

namespace leakscope::collector {

class FrameIds {
 public:
  explicit FrameIds(const SymbolizeFn& symbolize) : symbolize_(symbolize) {}

  // A site's frames, as SiteFrames() gives them, as ids.
  void SiteIds(const std::vector<uint64_t>& pcs, std::vector<uint32_t>* out);
  const SymbolizedFrame& frame(uint32_t id) const { return frames_[id]; }
  // Frames that SiteFrames' merge rule (one source line is one frame) makes
  // equal have the same key; keys count from 0.
  uint32_t key(uint32_t id) const { return keys_[id]; }
  size_t key_count() const { return key_ids_.size(); }

 private:
  struct Range {
    uint32_t first, count;
  };
  const Range& OfPc(uint64_t pc);

  const SymbolizeFn& symbolize_;
  std::unordered_map<uint64_t, Range> by_pc_;
  std::vector<SymbolizedFrame> frames_;  // by id: a copy per return address
  std::vector<uint32_t> keys_;           // by id
  std::vector<uint8_t> allocator_, shim_;
  std::unordered_map<std::string, uint32_t> key_ids_;
};

// Two call sites on one source line (an unrolled loop, say) are one site to
// the reader; only frames without a line keep their address apart.
std::string FrameKey(const SymbolizedFrame& f);

}  // namespace leakscope::collector
