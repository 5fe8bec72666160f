// One reachability scan of a traced process, by its collector: the live
// table's blocks sorted (before the stop, to keep the pause short), every
// thread stopped (process_stopper.h), the roots found (scan_roots.h), the
// blocks marked (reachability.h), the threads let go. The result keeps only
// the blocks that are not reachable, by address: a report then counts every
// live block numbered up to scan_seq that is not there as reachable, and
// blocks allocated after the scan as not scanned. No hook on the event
// path: a block freed and its address reused gets a number above scan_seq.
#pragma once

#include <sys/types.h>
#include <tsl/robin_map.h>

#include <cstdint>
#include <string>
#include <vector>

#include "live_table.h"
#include "reachability.h"
#include "scan_roots.h"

namespace leakscope::collector {

struct ReachabilityScan {
  bool ok = false;
  std::string error;      // one line: why there is no result
  bool at_exit = false;   // asked by the shim when exit began
  uint64_t scan_seq = 0;  // live blocks numbered up to this were scanned
  uint64_t time_unix_ns = 0;
  uint64_t pause_ns = 0;  // the process was stopped this long
  uint64_t threads = 0;
  uint64_t blocks = 0;
  ScanCounts counts;
  tsl::robin_map<uint64_t, Verdict> not_reachable;

  // The verdict of the live block at `address` numbered `seq`; false if it
  // was allocated after the scan.
  bool VerdictOf(uint64_t address, uint64_t seq, Verdict* v) const {
    if (!ok || seq > scan_seq) return false;
    auto it = not_reachable.find(address);
    *v = it == not_reachable.end() ? Verdict::kReachable : it->second;
    return true;
  }
};

std::vector<ScanBlock> BlocksToScan(const LiveTable& live);

// Scans `pid` (in the collector's pid namespace). Never leaves it stopped.
// `modules`: the shim's module list (their writable segments are roots).
ReachabilityScan ScanProcess(pid_t pid, const std::vector<LoadedModule>& modules,
                             std::vector<ScanBlock> blocks, uint64_t scan_seq);

}  // namespace leakscope::collector
