#include "reachability_scan.h"

#include <time.h>

#include <chrono>

#include "chunk_cache.h"
#include "process_memory.h"
#include "process_stopper.h"
#include "scan_roots.h"

namespace leakscope::collector {
namespace {

uint64_t NowNs(clockid_t clock) {
  timespec ts;
  clock_gettime(clock, &ts);
  return uint64_t(ts.tv_sec) * 1000000000 + uint64_t(ts.tv_nsec);
}

}  // namespace

std::vector<ScanBlock> BlocksToScan(const LiveTable& live) {
  std::vector<ScanBlock> blocks;
  blocks.reserve(live.size());
  live.ForEach([&](uint64_t address, const LiveAllocation& a) {
    blocks.push_back({address, a.size, a.site});
  });
  return blocks;
}

ReachabilityScan ScanProcess(pid_t pid, const std::vector<LoadedModule>& modules,
                             std::vector<ScanBlock> blocks, uint64_t scan_seq) {
  ReachabilityScan scan;
  scan.scan_seq = scan_seq;
  scan.time_unix_ns = NowNs(CLOCK_REALTIME);
  SortBlocks(&blocks);
  scan.blocks = blocks.size();
  {
    ProcessMemory memory(pid);
    uint64_t heap_bytes = 0;
    for (const ScanBlock& b : blocks) heap_bytes += b.size;
    // Their memory taken and faulted in before the pause.
    ChunkCache heap(memory, heap_bytes);
    MarkPhase phase(blocks);
    const uint64_t start = NowNs(CLOCK_MONOTONIC);
    ProcessStopper stopper;
    if (!stopper.Stop(pid, &scan.error)) {
      scan.error = "reachability: pid " + std::to_string(pid) + " cannot be stopped (" +
                   scan.error + "): survivors only";
      return scan;
    }
    scan.threads = stopper.threads().size();
    const ScanRoots roots = CollectRoots(ReadMaps(pid), modules, stopper.threads(), memory);
    const std::vector<Verdict>& verdicts = phase.Classify(roots, heap, &scan.counts);
    stopper.Resume();
    scan.pause_ns = NowNs(CLOCK_MONOTONIC) - start;
    for (size_t i = 0; i < blocks.size(); ++i)
      if (verdicts[i] != Verdict::kReachable)
        scan.not_reachable.emplace(blocks[i].address, verdicts[i]);
  }
  scan.ok = true;
  return scan;
}

}  // namespace leakscope::collector
