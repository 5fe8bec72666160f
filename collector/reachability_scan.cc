#include "reachability_scan.h"

#include <dirent.h>
#include <sys/syscall.h>
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "chunk_cache.h"
#include "drain_progress.h"
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

// The blocks given once (the old entry point, and tests): nothing to catch up.
class FixedSource : public ScanSource {
 public:
  FixedSource(std::vector<ScanBlock> blocks, uint64_t seq) : blocks_(std::move(blocks)) {
    shape_.seq = seq;
    shape_.blocks = blocks_.size();
    for (const ScanBlock& b : blocks_) shape_.bytes += b.size;
  }
  Shape Now() const override { return shape_; }
  std::vector<ScanBlock> Blocks() const override { return blocks_; }
  bool CatchUp(int) override { return false; }
  std::string Hold(uint64_t) override { return ""; }
  uint64_t BehindBoundMs() const override { return 0; }

 private:
  std::vector<ScanBlock> blocks_;
  Shape shape_;
};

// The thread of `pid` that is `inner_tid` in the process's own pid
// namespace (NSpid's last field), as this process's /proc names it; 0 if none.
pid_t ThreadByInnerTid(pid_t pid, uint64_t inner_tid) {
  char dir_path[64];
  std::snprintf(dir_path, sizeof dir_path, "/proc/%d/task", int(pid));
  std::unique_ptr<DIR, int (*)(DIR*)> dir(opendir(dir_path), closedir);
  if (!dir || inner_tid == 0) return 0;
  while (dirent* e = readdir(dir.get())) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const pid_t tid = pid_t(std::atoi(e->d_name));
    char path[96];
    std::snprintf(path, sizeof path, "/proc/%d/task/%d/status", int(pid), int(tid));
    FILE* f = std::fopen(path, "re");
    if (!f) continue;
    uint64_t inner = uint64_t(tid);  // a kernel without NSpid: one namespace
    char line[256];
    while (std::fgets(line, sizeof line, f)) {
      if (std::strncmp(line, "NSpid:", 6) != 0) continue;
      char* p = line + 6;
      for (char* end;; p = end) {
        const uint64_t n = std::strtoull(p, &end, 10);
        if (end == p) break;
        inner = n;
      }
      break;
    }
    std::fclose(f);
    if (inner == inner_tid) return tid;
  }
  return 0;
}

// Whether thread `tid` of `pid` is blocked in futex(2) (/proc's syscall
// file: the number first), where the drain thread sleeps between passes.
bool InFutex(pid_t pid, pid_t tid) {
  char path[96];
  std::snprintf(path, sizeof path, "/proc/%d/task/%d/syscall", int(pid), int(tid));
  FILE* f = std::fopen(path, "re");
  if (!f) return false;
  long nr = -1;
  const bool read = std::fscanf(f, "%ld", &nr) == 1;
  std::fclose(f);
  return read && nr == SYS_futex;
}

// With every thread but the drain thread `tid` stopped: waits until a pass
// that began after the stop is done, and its events applied. Bounded by
// `deadline_ns`. Every word read from the process is checked.
bool CatchUpWithDrain(pid_t pid, pid_t tid, MemoryReader& memory, uint64_t address,
                      ScanSource& source, uint64_t deadline_ns) {
  wire::DrainProgressWords w;
  auto read = [&] {
    return memory.Read(address, sizeof w, reinterpret_cast<uint8_t*>(&w)) == sizeof w &&
           w.magic == wire::kDrainProgressMagic;
  };
  // What is queued first: a drain that finds its socket backed up skips a pass.
  if (!source.CatchUp(0) || !read()) return false;
  const uint64_t target = w.passes_begun + 1;
  for (;;) {
    // Done: every byte of that pass was sent before passes_done moved.
    if (int64_t(w.passes_done - target) >= 0) return source.CatchUp(0);
    if (NowNs(CLOCK_MONOTONIC) >= deadline_ns) return false;
    // Asleep until its next interval: now instead (again if it went back to sleep).
    if (InFutex(pid, tid)) ProcessStopper::WakeFromFutex(tid);
    if (!source.CatchUp(1) || !read()) return false;
  }
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

uint64_t ScanMemoryBytes(uint64_t blocks, uint64_t heap_bytes) {
  return blocks * sizeof(ScanBlock) + MarkPhase::BytesFor(blocks) +
         ChunkCache::BytesFor(heap_bytes);
}

ReachabilityScan ScanProcess(pid_t pid, const std::vector<LoadedModule>& modules,
                             std::vector<ScanBlock> blocks, uint64_t scan_seq) {
  FixedSource source(std::move(blocks), scan_seq);
  return ScanProcess(pid, modules, source, DrainRef{});
}

ReachabilityScan ScanProcess(pid_t pid, const std::vector<LoadedModule>& modules,
                             ScanSource& source, const DrainRef& drain) {
  ReachabilityScan scan;
  scan.time_unix_ns = NowNs(CLOCK_REALTIME);
  ScanSource::Shape shape = source.Now();
  const auto hold = [&](const ScanSource::Shape& s) {
    scan.error = source.Hold(ScanMemoryBytes(s.blocks, s.bytes));
    if (!scan.error.empty()) scan.error = "reachability: " + scan.error + ": survivors only";
    return scan.error.empty();
  };
  if (!hold(shape)) return scan;
  std::vector<ScanBlock> blocks = source.Blocks();
  SortBlocks(&blocks);
  ProcessMemory memory(pid);
  // Their memory taken and faulted in before the pause.
  ChunkCache heap(memory, shape.bytes);
  auto phase = std::make_unique<MarkPhase>(blocks);
  // The drain thread, found before the pause; without it (an older shim, a
  // drain that is gone) the table is as the collector has it.
  pid_t drain_tid = 0;
  if (drain.progress_address) {
    wire::DrainProgressWords w;
    if (memory.Read(drain.progress_address, sizeof w, reinterpret_cast<uint8_t*>(&w)) == sizeof w &&
        w.magic == wire::kDrainProgressMagic)
      drain_tid = ThreadByInnerTid(pid, w.drain_tid);
  }
  const uint64_t start = NowNs(CLOCK_MONOTONIC);
  ProcessStopper stopper;
  if (!stopper.Stop(pid, drain_tid, &scan.error)) {
    scan.error = "reachability: pid " + std::to_string(pid) + " cannot be stopped (" + scan.error +
                 "): survivors only";
    return scan;
  }
  if (drain_tid) {
    // From the stop on: on a loaded machine stopping the threads alone may
    // take longer than the wait.
    scan.table_exact = CatchUpWithDrain(pid, drain_tid, memory, drain.progress_address, source,
                                        NowNs(CLOCK_MONOTONIC) + drain.wait_ms * 1000000);
    scan.catch_up_ns = NowNs(CLOCK_MONOTONIC) - start;
    if (!stopper.StopAlso(drain_tid, &scan.error)) {
      scan.error = "reachability: pid " + std::to_string(pid) + " cannot be stopped (" +
                   scan.error + "): survivors only";
      scan.table_exact = false;
      return scan;
    }
  }
  if (!scan.table_exact) scan.table_behind_ms = source.BehindBoundMs();
  // Caught up: the blocks again, inside the pause, if the table moved.
  if (!(source.Now() == shape)) {
    shape = source.Now();
    phase.reset();
    if (!hold(shape)) return scan;
    blocks = source.Blocks();
    SortBlocks(&blocks);
    phase = std::make_unique<MarkPhase>(blocks);
  }
  scan.scan_seq = shape.seq;
  scan.blocks = blocks.size();
  scan.threads = stopper.threads().size();
  const ScanRoots roots = CollectRoots(ReadMaps(pid), modules, stopper.threads(), memory);
  const std::vector<Verdict>& verdicts = phase->Classify(roots, heap, &scan.counts);
  stopper.Resume();
  scan.pause_ns = NowNs(CLOCK_MONOTONIC) - start;
  for (size_t i = 0; i < blocks.size(); ++i)
    if (verdicts[i] != Verdict::kReachable)
      scan.not_reachable.emplace(blocks[i].address, verdicts[i]);
  scan.ok = true;
  return scan;
}

}  // namespace leakscope::collector
