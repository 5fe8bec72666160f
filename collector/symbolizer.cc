// Placeholder until the libdw symbolizer lands: module+offset only.
#include "symbolizer.h"

#include <cstdio>
#include <unordered_map>

namespace leakscope::collector {

struct Symbolizer::Impl {
  std::vector<ModuleInfo> modules;
  std::unordered_map<uint64_t, std::vector<SymbolizedFrame>> cache;
};

Symbolizer::Symbolizer() : impl_(new Impl) {}
Symbolizer::~Symbolizer() = default;

void Symbolizer::AddModule(const ModuleInfo& module) {
  for (const auto& m : impl_->modules)
    if (m.path == module.path && m.load_bias == module.load_bias) return;
  impl_->modules.push_back(module);
}

const std::vector<SymbolizedFrame>& Symbolizer::Symbolize(uint64_t pc) {
  auto it = impl_->cache.find(pc);
  if (it != impl_->cache.end()) return it->second;
  SymbolizedFrame f;
  char buf[32];
  for (const auto& m : impl_->modules)
    for (const auto& r : m.exec_ranges)
      if (pc >= r.first && pc < r.second) {
        f.module = m.path;
        f.module_offset = pc - m.load_bias;
      }
  if (f.module.empty()) {
    snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(pc));
    f.function = buf;
  }
  return impl_->cache[pc] = {f};
}

}  // namespace leakscope::collector
