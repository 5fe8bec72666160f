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
  // The live table was caught up with the process inside the pause (the
  // drain's pass after the stop was applied): every block then live was
  // scanned. Else it may have been up to table_behind_ms behind: blocks
  // allocated meanwhile were not scanned (what only they point to may show
  // as lost), blocks freed meanwhile were (and may show as lost).
  bool table_exact = false;
  uint64_t table_behind_ms = 0;
  uint64_t catch_up_ns = 0;  // of pause_ns: waiting for the drain and applying its events
  std::string error;         // one line: why there is no result
  bool at_exit = false;      // asked by the shim when exit began
  uint64_t scan_seq = 0;     // live blocks numbered up to this were scanned
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

// A scan's memory besides the reader's process: the blocks, the mark phase
// and the chunk cache, for a table of `blocks` blocks and `heap_bytes` live
// bytes (an upper bound; the daemon's --max-memory is asked for it).
uint64_t ScanMemoryBytes(uint64_t blocks, uint64_t heap_bytes);

// The live table a scan classifies, and how it is caught up with the
// process (collector/server.cc: a stream's).
class ScanSource {
 public:
  struct Shape {
    uint64_t seq = 0;     // allocation number of the newest block
    uint64_t blocks = 0;  // live blocks
    uint64_t bytes = 0;   // their bytes
    bool operator==(const Shape& o) const { return seq == o.seq && blocks == o.blocks; }
  };
  virtual ~ScanSource() = default;
  virtual Shape Now() const = 0;
  virtual std::vector<ScanBlock> Blocks() const = 0;
  // Reads and applies what the stream has sent, waiting at most
  // `timeout_ms` for it. False: it can be read no further now (it ended,
  // broke a limit, or is being read already).
  virtual bool CatchUp(int timeout_ms) = 0;
  // "" and `bytes` held for the scan if they fit the collector's memory
  // budget; else why not, one line.
  virtual std::string Hold(uint64_t bytes) = 0;
  // How far behind the process the table may be, not caught up, in ms.
  virtual uint64_t BehindBoundMs() const = 0;
};

// The shim's drain (proto/drain_progress.h), to catch the table up with.
struct DrainRef {
  uint64_t progress_address = 0;  // wire.Hello.drain_progress_address; 0: none
  // The longest wait for its pass once the others are stopped, inside the
  // pause: a drain thread that is woken passes within a millisecond or two
  // on a quiet machine; one that cannot (held by a lock of a stopped
  // thread) costs the whole wait.
  uint64_t wait_ms = 500;
};

// As below, the blocks from `source`. With a drain: every thread but the
// drain thread stopped, the drain thread woken and waited for (bounded)
// until a pass that began after the stop is applied, then stopped too; the
// blocks are taken again if the table changed. Refused (error, nothing
// stopped) if its memory does not fit source.Hold.
ReachabilityScan ScanProcess(pid_t pid, const std::vector<LoadedModule>& modules,
                             ScanSource& source, const DrainRef& drain);

// Scans `pid` (in the collector's pid namespace). Never leaves it stopped.
// `modules`: the shim's module list (their writable segments are roots).
ReachabilityScan ScanProcess(pid_t pid, const std::vector<LoadedModule>& modules,
                             std::vector<ScanBlock> blocks, uint64_t scan_seq);

}  // namespace leakscope::collector
