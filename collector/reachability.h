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
#pragma once

#include <cstddef>
#include <cstdint>
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
  // Many ranges at once into out (their sizes back to back); got[i]: as for
  // Read. The default calls Read for each; a real process batches them.
  virtual void ReadMany(const MemoryRange* ranges, size_t n, uint8_t* out, size_t* got);
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

// `blocks` must be sorted by address and must not overlap (SortBlocks).
// Returns one verdict per block, in the same order.
std::vector<Verdict> ClassifyBlocks(const std::vector<ScanBlock>& blocks, const ScanRoots& roots,
                                    MemoryReader& memory, ScanCounts* counts = nullptr);

// Sorts by address; of overlapping blocks (a lost free, replaced) keeps the
// first one.
void SortBlocks(std::vector<ScanBlock>* blocks);

}  // namespace leakscope::collector
