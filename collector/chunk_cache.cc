#include "chunk_cache.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace leakscope::collector {
namespace {

size_t ChunksFor(uint64_t heap_bytes) {
  size_t n = ChunkCache::kMinChunks;
  while (n < ChunkCache::kMaxChunks && n * ChunkCache::kChunkBytes < heap_bytes) n *= 2;
  return n;
}

}  // namespace

uint64_t ChunkCache::BytesFor(uint64_t heap_bytes) {
  return ChunksFor(heap_bytes) * kChunkBytes;
}

ChunkCache::ChunkCache(MemoryReader& inner, uint64_t heap_bytes)
    : inner_(inner), slots_(ChunksFor(heap_bytes)) {
  void* p = mmap(nullptr, bytes(), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  data_ = static_cast<uint8_t*>(p);
  // Written once as well: MAP_POPULATE fills the page table, but a page's
  // first write can still cost a trap under a hypervisor (here, a third of
  // a small scan's pause).
  std::memset(data_, 0, bytes());
}

ChunkCache::~ChunkCache() {
  munmap(data_, bytes());
}

const ChunkCache::Slot& ChunkCache::Load(uint64_t chunk) {
  Slot& s = slots_[chunk & (slots_.size() - 1)];
  if (s.chunk != chunk) {
    s.chunk = chunk;
    s.readable = inner_.Read(chunk * kChunkBytes, kChunkBytes, SlotData(chunk));
    ++chunk_reads_;
  }
  return s;
}

const uint8_t* ChunkCache::Peek(uint64_t address, size_t size) {
  const uint64_t chunk = address / kChunkBytes;
  const size_t offset = size_t(address - chunk * kChunkBytes);
  if (size > kChunkBytes - offset) return nullptr;  // crosses into the next chunk
  const Slot& s = Load(chunk);
  if (offset + size > s.readable) return nullptr;
  return SlotData(chunk) + offset;
}

// A range larger than a chunk goes straight through: caching it would only
// evict what the small blocks around it need.
size_t ChunkCache::Read(uint64_t address, size_t size, uint8_t* out) {
  if (size > kChunkBytes) return inner_.Read(address, size, out);
  size_t done = 0;
  while (done < size) {
    const uint64_t at = address + done;
    const uint64_t chunk = at / kChunkBytes;
    const Slot& s = Load(chunk);
    const size_t offset = size_t(at - chunk * kChunkBytes);
    // A chunk only partly mapped (a mapping begins or ends inside it): what
    // its readable head does not cover is read as asked.
    if (offset >= s.readable) return done + inner_.Read(at, size - done, out + done);
    const size_t n = std::min(size - done, s.readable - offset);
    std::memcpy(out + done, SlotData(chunk) + offset, n);
    done += n;
    if (done < size && s.readable < kChunkBytes)
      return done + inner_.Read(address + done, size - done, out + done);
  }
  return done;
}

}  // namespace leakscope::collector
