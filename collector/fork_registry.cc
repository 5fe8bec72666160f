#include "fork_registry.h"

#include <algorithm>

namespace leakscope::collector {

void ForkRegistry::Add(const ForkKey& key, ForkSnapshot snapshot, uint64_t now_mono_ns) {
  auto old = pending_.find(key);
  if (old != pending_.end()) Erase(old);  // a restarted stream reusing an id: the newest wins
  blocks_ += snapshot.live.size();
  pending_.emplace(key, Pending{std::move(snapshot), now_mono_ns, now_mono_ns + kTtlNs});
  while (pending_.size() > kMaxSnapshots || (blocks_ > kMaxBlocks && pending_.size() > 1)) {
    auto oldest = std::min_element(pending_.begin(), pending_.end(), [](auto& a, auto& b) {
      return a.second.taken_mono_ns < b.second.taken_mono_ns;
    });
    Erase(oldest);
  }
}

std::optional<ForkSnapshot> ForkRegistry::Take(const ForkKey& key) {
  auto it = pending_.find(key);
  if (it == pending_.end()) return std::nullopt;
  blocks_ -= it->second.snapshot.live.size();
  std::optional<ForkSnapshot> s(std::move(it->second.snapshot));
  pending_.erase(it);
  return s;
}

void ForkRegistry::ParentEnded(uint32_t pid, uint64_t start_time_unix_ns, uint64_t now_mono_ns) {
  for (auto it = pending_.lower_bound({pid, start_time_unix_ns, 0});
       it != pending_.end() && it->first.parent_pid == pid &&
       it->first.parent_start_time_unix_ns == start_time_unix_ns;
       ++it)
    it->second.expires_mono_ns =
        std::min(it->second.expires_mono_ns, now_mono_ns + kParentGoneGraceNs);
}

void ForkRegistry::Expire(uint64_t now_mono_ns) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    auto next = std::next(it);
    if (it->second.expires_mono_ns <= now_mono_ns) Erase(it);
    it = next;
  }
}

void ForkRegistry::Erase(std::map<ForkKey, Pending>::iterator it) {
  blocks_ -= it->second.snapshot.live.size();
  pending_.erase(it);
}

}  // namespace leakscope::collector
