// Reads another process's memory in large aligned chunks and keeps the
// latest ones: the mark phase reads blocks one by one in the order it finds
// them (a linked list: one at a time), and blocks allocated together lie
// together, so one process_vm_readv of 256 KiB serves thousands of them.
// Direct-mapped, 64 MiB: bounded memory whatever the heap's size.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "reachability.h"

namespace leakscope::collector {

class ChunkCache : public MemoryReader {
 public:
  static constexpr uint64_t kChunkBytes = 256 << 10;
  static constexpr size_t kChunks = 256;

  explicit ChunkCache(MemoryReader& inner);
  size_t Read(uint64_t address, size_t size, uint8_t* out) override;
  uint64_t chunk_reads() const { return chunk_reads_; }

 private:
  struct Slot {
    uint64_t chunk = ~0ull;  // address / kChunkBytes
    size_t readable = 0;     // bytes from the chunk's start that could be read
  };
  const Slot& Load(uint64_t chunk);

  MemoryReader& inner_;
  std::vector<Slot> slots_;
  std::unique_ptr<uint8_t[]> data_;  // not zeroed: pages are touched only when read into
  uint64_t chunk_reads_ = 0;
};

}  // namespace leakscope::collector
