// Reachability of live blocks: the conservative mark phase of LeakSanitizer
// and Valgrind memcheck, run by the collector over another process's memory
// (read through a MemoryReader: process_memory.h for a real one, a fake in
// tests). Pure: no ptrace here (process_stopper.h stops the process,
// scan_roots.h finds its roots).
//
// Semantics (memcheck's, tests/collector/reachability_test.cc):
//   - every aligned 8-byte word of the roots, and every root word given
//     directly (registers), that points into a block marks it: at its first
//     byte *reachable*, anywhere else inside *possibly lost*;
//   - marked blocks are scanned in turn: a start pointer out of a reachable
//     block makes its target reachable; any pointer out of a possibly lost
//     block, or an interior one, makes an unmarked target possibly lost;
//   - blocks still unmarked are lost: *indirectly* when another lost block
//     points to them, else *definitely*. A cycle of lost blocks with nothing
//     else pointing in has one definitely lost block, its lowest address, the
//     rest indirectly lost (memcheck's cliques; LeakSanitizer would call the
//     whole cycle indirect and report no leak at all).
// Unaligned words are not pointers (memcheck and LeakSanitizer by default).
// Iterative (a worklist), never recursive: a list of a million nodes is fine.
// Each word is looked up in a BlockIndex (block_index.h): a few loads, not a
// binary search.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace leakscope::collector {

enum class Verdict : uint8_t {
  kReachable = 0,
  kPossiblyLost = 1,
  kIndirectlyLost = 2,
  kDefinitelyLost = 3,
};
inline constexpr int kVerdicts = 4;

const char* VerdictName(Verdict v);

struct MemoryRange {
  uint64_t start = 0, end = 0;  // [start, end)
};

// Reads another process's memory.
class MemoryReader {
 public:
  virtual ~MemoryReader() = default;
  // Copies [address, address + size) to out; returns how many bytes from the
  // start could be read (fewer at an unmapped page).
  virtual size_t Read(uint64_t address, size_t size, uint8_t* out) = 0;
  // [address, address + size) where the reader already holds all of it
  // (ChunkCache: a chunk read for the blocks around it), valid until the
  // reader's next call; else null, and the caller Reads. The mark phase
  // scans most blocks in place this way, with no copy.
  virtual const uint8_t* Peek(uint64_t /*address*/, size_t /*size*/) { return nullptr; }
};

struct ScanBlock {
  uint64_t address = 0;
  uint64_t size = 0;
  uint32_t site = 0;
};

struct ScanRoots {
  std::vector<MemoryRange> ranges;  // data, bss, stacks, TLS
  std::vector<uint64_t> words;      // registers
};

struct ScanCounts {
  uint64_t root_bytes = 0;        // read from the roots
  uint64_t heap_bytes = 0;        // read from marked blocks
  uint64_t unreadable_bytes = 0;  // of roots and blocks, could not be read
};

class BlockIndex;  // block_index.h

// The mark phase over one set of blocks, sorted by address and not
// overlapping (SortBlocks). The constructor takes and touches all the memory
// the phase needs but the reader's (the block index, a state and a verdict
// per block), so a scan makes it before it stops the process
// (reachability_scan.cc): the pause then holds no page fault of the
// collector's own. Classify runs once; the verdicts are one per block, in
// the same order.
class MarkPhase {
 public:
  explicit MarkPhase(const std::vector<ScanBlock>& blocks);
  ~MarkPhase();
  MarkPhase(const MarkPhase&) = delete;
  MarkPhase& operator=(const MarkPhase&) = delete;

  const std::vector<Verdict>& Classify(const ScanRoots& roots, MemoryReader& memory,
                                       ScanCounts* counts = nullptr);
  // The memory it holds (the blocks are the caller's).
  uint64_t bytes() const;
  // bytes() of a phase over `blocks` blocks, bounded from above (the
  // index's table holds about one granule per block, two at most).
  static uint64_t BytesFor(uint64_t blocks);

 private:
  void Consider(uint64_t word, uint8_t from);
  void ScanWords(const uint8_t* p, size_t n, uint8_t from);
  void MarkRoots(const ScanRoots& roots);
  void Drain();
  uint64_t ScanRange(uint64_t at, uint64_t size, uint8_t from);
  void FindCliques();
  void WalkWords(const uint8_t* p, size_t n, size_t leader, std::vector<uint32_t>* walk);

  const std::vector<ScanBlock>& blocks_;
  std::unique_ptr<const BlockIndex> index_;
  std::vector<uint8_t> state_;         // per block: its mark, then the clique walk's flags
  std::vector<Verdict> verdicts_;      // per block
  std::vector<uint32_t> work_;         // blocks marked and not yet scanned
  std::unique_ptr<uint8_t[]> buffer_;  // what the reader cannot lend, a batch at a time
  MemoryReader* memory_ = nullptr;     // during Classify
  ScanCounts* counts_ = nullptr;
};

// A MarkPhase made and run at once. `blocks` as for MarkPhase.
std::vector<Verdict> ClassifyBlocks(const std::vector<ScanBlock>& blocks, const ScanRoots& roots,
                                    MemoryReader& memory, ScanCounts* counts = nullptr);

// Sorts by address; of overlapping blocks (a lost free, replaced) keeps the
// first one.
void SortBlocks(std::vector<ScanBlock>* blocks);

}  // namespace leakscope::collector
