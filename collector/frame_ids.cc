#include "frame_ids.h"

#include <algorithm>

namespace leakscope::collector {

std::string FrameKey(const SymbolizedFrame& f) {
  return f.function + '\0' + f.file + '\0' + std::to_string(f.line) + '\0' + f.module + '\0' +
         (f.inlined ? "1" : "0") + (f.line ? std::string() : std::to_string(f.module_offset)) +
         '\1';
}

const FrameIds::Range& FrameIds::OfPc(uint64_t pc) {
  auto it = by_pc_.find(pc);
  if (it != by_pc_.end()) return it->second;
  const std::vector<SymbolizedFrame>& frames = symbolize_(pc ? pc - 1 : 0);  // the call site
  const Range range{static_cast<uint32_t>(frames_.size()), static_cast<uint32_t>(frames.size())};
  for (const SymbolizedFrame& f : frames) {
    frames_.push_back(f);
    keys_.push_back(key_ids_.emplace(FrameKey(f), key_ids_.size()).first->second);
    allocator_.push_back(IsAllocatorFrame(f));
    shim_.push_back(IsShimFrame(f));
  }
  return by_pc_.emplace(pc, range).first->second;
}

void FrameIds::SiteIds(const std::vector<uint64_t>& pcs, std::vector<uint32_t>* out) {
  out->clear();
  for (uint64_t pc : pcs) {
    const Range r = OfPc(pc);
    for (uint32_t i = 0; i < r.count; ++i) out->push_back(r.first + i);
  }
  // As SiteFrames: the allocator's frames in front, the shim's deeper in.
  size_t drop = 0;
  while (drop + 1 < out->size() && allocator_[(*out)[drop]]) ++drop;
  out->erase(out->begin(), out->begin() + drop);
  if (out->empty()) return;
  out->erase(
      std::remove_if(out->begin() + 1, out->end(), [this](uint32_t id) { return shim_[id]; }),
      out->end());
}

}  // namespace leakscope::collector
