// Snapshots taken at a parent's ForkMarker, waiting for the forked child's
// stream to claim them (collector/server.cc). The two streams are independent
// sockets, so the child's Hello may be read before or after the marker; the
// server holds a child until this registry can answer.
//
// Each snapshot is O(parent live allocations) (ProcessState::SnapshotForFork),
// so unclaimed ones do not stay: a snapshot expires kTtlNs after it was taken,
// kParentGoneGraceNs after its parent's stream ended, and the oldest go first
// when more than kMaxSnapshots or kMaxBlocks live blocks are pending. A child
// that claims too late proceeds with nothing inherited.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <tuple>

#include "process_state.h"

namespace leakscope::collector {

// The parent stream's identity (its Hello pid and start time) and the marker.
struct ForkKey {
  uint32_t parent_pid = 0;
  uint64_t parent_start_time_unix_ns = 0;
  uint64_t fork_id = 0;
  bool operator<(const ForkKey& o) const {
    return std::tie(parent_pid, parent_start_time_unix_ns, fork_id) <
           std::tie(o.parent_pid, o.parent_start_time_unix_ns, o.fork_id);
  }
};

class ForkRegistry {
 public:
  static constexpr uint64_t kTtlNs = 10'000'000'000;
  static constexpr uint64_t kParentGoneGraceNs = 2'000'000'000;
  static constexpr size_t kMaxSnapshots = 256;
  static constexpr size_t kMaxBlocks = 32u << 20;

  void Add(const ForkKey& key, ForkSnapshot snapshot, uint64_t now_mono_ns);
  // Removes and returns the snapshot for `key`, if it is pending.
  std::optional<ForkSnapshot> Take(const ForkKey& key);
  // The parent's stream ended: its snapshots expire soon.
  void ParentEnded(uint32_t pid, uint64_t start_time_unix_ns, uint64_t now_mono_ns);
  void Expire(uint64_t now_mono_ns);

  size_t size() const { return pending_.size(); }
  size_t blocks() const { return blocks_; }

 private:
  struct Pending {
    ForkSnapshot snapshot;
    uint64_t taken_mono_ns;
    uint64_t expires_mono_ns;
  };
  void Erase(std::map<ForkKey, Pending>::iterator it);

  std::map<ForkKey, Pending> pending_;
  size_t blocks_ = 0;
};

}  // namespace leakscope::collector
