#include "chunk_cache.h"

#include <algorithm>
#include <cstring>

namespace leakscope::collector {

ChunkCache::ChunkCache(MemoryReader& inner)
    : inner_(inner), slots_(kChunks), data_(new uint8_t[kChunks * kChunkBytes]) {}

const ChunkCache::Slot& ChunkCache::Load(uint64_t chunk) {
  Slot& s = slots_[chunk % kChunks];
  if (s.chunk != chunk) {
    s.chunk = chunk;
    s.readable = inner_.Read(chunk * kChunkBytes, kChunkBytes,
                             data_.get() + (chunk % kChunks) * kChunkBytes);
    ++chunk_reads_;
  }
  return s;
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
    std::memcpy(out + done, data_.get() + (chunk % kChunks) * kChunkBytes + offset, n);
    done += n;
    if (done < size && s.readable < kChunkBytes)
      return done + inner_.Read(address + done, size - done, out + done);
  }
  return done;
}

}  // namespace leakscope::collector
