// Reads another process's memory in large aligned chunks and keeps the
// latest ones: the mark phase reads blocks one by one in the order it finds
// them (a linked list: one at a time), and blocks allocated together lie
// together, so one process_vm_readv of 256 KiB serves thousands of them.
// Direct-mapped, 64 MiB at most (less for a smaller heap): bounded memory
// whatever the heap's size. Its memory is taken and faulted in by the
// constructor, before the process is stopped: a page fault per 4 KiB of a
// fresh cache, inside process_vm_readv, was a quarter of the pause.
#pragma once

#include <cstdint>
#include <vector>

#include "reachability.h"

namespace leakscope::collector {

class ChunkCache : public MemoryReader {
 public:
  static constexpr uint64_t kChunkBytes = 256 << 10;
  static constexpr size_t kMaxChunks = 256;
  static constexpr size_t kMinChunks = 16;

  // `heap_bytes`: the live bytes to scan; the cache holds about that much
  // (a power of two of chunks, kMinChunks to kMaxChunks).
  explicit ChunkCache(MemoryReader& inner, uint64_t heap_bytes = ~0ull);
  ~ChunkCache() override;
  ChunkCache(const ChunkCache&) = delete;
  ChunkCache& operator=(const ChunkCache&) = delete;

  size_t Read(uint64_t address, size_t size, uint8_t* out) override;
  // A range inside one chunk, all of it readable: in place (the chunk is
  // loaded if it is not held).
  const uint8_t* Peek(uint64_t address, size_t size) override;
  uint64_t chunk_reads() const { return chunk_reads_; }
  // The memory it holds.
  uint64_t bytes() const { return slots_.size() * kChunkBytes; }
  // bytes() of a cache made for `heap_bytes`.
  static uint64_t BytesFor(uint64_t heap_bytes);

 private:
  struct Slot {
    uint64_t chunk = ~0ull;  // address / kChunkBytes
    size_t readable = 0;     // bytes from the chunk's start that could be read
  };
  const Slot& Load(uint64_t chunk);
  uint8_t* SlotData(uint64_t chunk) { return data_ + (chunk & (slots_.size() - 1)) * kChunkBytes; }

  MemoryReader& inner_;
  std::vector<Slot> slots_;
  uint8_t* data_ = nullptr;  // mmap'd, populated
  uint64_t chunk_reads_ = 0;
};

}  // namespace leakscope::collector
