#include "reachability.h"

#include <algorithm>
#include <cstring>
#include <memory>

#include "block_index.h"

namespace leakscope::collector {
namespace {

// What the reader cannot lend (MemoryReader::Peek) is read this many bytes
// at a time at most.
constexpr size_t kBatchBytes = 4u << 20;

// A block's state: its mark (kMarkBits), then for an unmarked block the
// clique walk's flags.
enum State : uint8_t {
  kUnmarked = 0,
  kPossible = 1,
  kStart = 2,
  kMarkBits = 3,
  kVisited = 4,
  kIndirect = 8,
};

// glibc's malloc lends a block the first 8 bytes of the next chunk's header,
// so its own pointers to that chunk (the arena's top, free lists) point 16
// bytes before the next block: into this one, at this offset. Such a word
// is the allocator's, not the program's (memcheck and LeakSanitizer, with
// allocators of their own, never see one); it is not taken as a pointer.
uint64_t NextChunkOffset(uint64_t size) {
  const uint64_t chunk = std::max<uint64_t>(32, (size + 8 + 15) & ~uint64_t(15));
  return chunk - 16;
}

// Calls fn(bytes, n) on the readable parts of [at, at + size): in place when
// the reader holds it all, else read into `buffer` a batch at a time. Returns
// the bytes read.
template <typename F>
uint64_t ForEachPiece(MemoryReader& memory, uint8_t* buffer, uint64_t at, uint64_t size, F fn) {
  if (const uint8_t* p = memory.Peek(at, size)) {
    fn(p, size_t(size));
    return size;
  }
  uint64_t read = 0;
  for (uint64_t done = 0; done < size; done += kBatchBytes) {
    const size_t n = size_t(std::min<uint64_t>(size - done, kBatchBytes));
    const size_t got = memory.Read(at + done, n, buffer);
    fn(buffer, got);
    read += got;
  }
  return read;
}

}  // namespace

MarkPhase::MarkPhase(const std::vector<ScanBlock>& blocks)
    : blocks_(blocks),
      index_(std::make_unique<const BlockIndex>(blocks)),
      state_(blocks.size(), kUnmarked),
      verdicts_(blocks.size(), Verdict::kDefinitelyLost),
      buffer_(new uint8_t[kBatchBytes]) {
  work_.reserve(1024);
}

MarkPhase::~MarkPhase() = default;

uint64_t MarkPhase::BytesFor(uint64_t blocks) {
  return blocks * (2 * sizeof(uint32_t) + sizeof(uint8_t) + sizeof(Verdict)) + 4096 +
         1024 * sizeof(uint32_t) + kBatchBytes;
}

uint64_t MarkPhase::bytes() const {
  return index_->bytes() + state_.capacity() + verdicts_.capacity() +
         work_.capacity() * sizeof(uint32_t) + kBatchBytes;
}

const std::vector<Verdict>& MarkPhase::Classify(const ScanRoots& roots, MemoryReader& memory,
                                                ScanCounts* counts) {
  ScanCounts ignored;
  memory_ = &memory;
  counts_ = counts ? counts : &ignored;
  MarkRoots(roots);
  Drain();
  FindCliques();
  memory_ = nullptr;
  counts_ = nullptr;
  return verdicts_;
}

// A word of a root or of a block marked `from`.
inline void MarkPhase::Consider(uint64_t word, uint8_t from) {
  const int64_t i = index_->Find(word);
  if (i < 0) return;
  if (word - blocks_[i].address == NextChunkOffset(blocks_[i].size)) return;
  const uint8_t to = (from == kStart && word == blocks_[i].address) ? kStart : kPossible;
  if (to <= state_[i]) return;
  state_[i] = to;
  work_.push_back(uint32_t(i));
}

void MarkPhase::ScanWords(const uint8_t* p, size_t n, uint8_t from) {
  // Most words are no heap address: rejected here, with the bounds held in
  // registers (Consider's stores could alias them for the compiler).
  const uint64_t lowest = index_->lowest(), span = index_->span();
  for (size_t off = 0; off + 8 <= n; off += 8) {
    uint64_t w;
    std::memcpy(&w, p + off, 8);
    if (w - lowest < span) Consider(w, from);
  }
}

void MarkPhase::MarkRoots(const ScanRoots& roots) {
  for (uint64_t w : roots.words) Consider(w, kStart);
  for (const MemoryRange& r : roots.ranges) {
    // Aligned words only: start at the first 8-byte boundary.
    const uint64_t start = (r.start + 7) & ~uint64_t(7);
    if (start < r.end) counts_->root_bytes += ScanRange(start, r.end - start, kStart);
  }
}

// Scans marked blocks until none is left to scan. A block is pushed each time
// its mark rises (at most twice): its words are then scanned with the mark it
// has when it is popped. One at a time, in place when the reader holds it
// (ChunkCache: a block in a chunk read for its neighbours costs no read and
// no copy).
void MarkPhase::Drain() {
  while (!work_.empty()) {
    const uint32_t i = work_.back();
    work_.pop_back();
    const ScanBlock& b = blocks_[i];
    counts_->heap_bytes += ScanRange(b.address, b.size & ~uint64_t(7), state_[i]);
  }
}

// The aligned words of [at, at + size) scanned with `from`; returns the bytes
// read (the rest are counted unreadable).
uint64_t MarkPhase::ScanRange(uint64_t at, uint64_t size, uint8_t from) {
  const uint64_t read = ForEachPiece(*memory_, buffer_.get(), at, size,
                                     [&](const uint8_t* p, size_t n) { ScanWords(p, n, from); });
  counts_->unreadable_bytes += size - read;
  return read;
}

// memcheck's cliques: each unmarked block, in address order, that is not yet
// known to be indirect leads a walk that makes every unmarked block it
// reaches indirectly lost. A leader reached later from another leader's walk
// becomes indirect too; a leader is never made indirect by its own walk (a
// cycle). The flags live beside the marks (only unmarked blocks get them).
void MarkPhase::FindCliques() {
  std::vector<uint32_t>& walk = work_;  // empty after Drain
  for (size_t leader = 0; leader < blocks_.size(); ++leader) {
    if (state_[leader] != kUnmarked) continue;  // marked, or visited already
    state_[leader] |= kVisited;
    walk.assign(1, uint32_t(leader));
    while (!walk.empty()) {
      const ScanBlock& b = blocks_[walk.back()];
      walk.pop_back();
      ForEachPiece(*memory_, buffer_.get(), b.address, b.size & ~uint64_t(7),
                   [&](const uint8_t* p, size_t n) { WalkWords(p, n, leader, &walk); });
    }
  }
  for (size_t i = 0; i < blocks_.size(); ++i) {
    const uint8_t s = state_[i];
    if ((s & kMarkBits) == kStart)
      verdicts_[i] = Verdict::kReachable;
    else if ((s & kMarkBits) == kPossible)
      verdicts_[i] = Verdict::kPossiblyLost;
    else if (s & kIndirect)
      verdicts_[i] = Verdict::kIndirectlyLost;
  }
}

void MarkPhase::WalkWords(const uint8_t* p, size_t n, size_t leader, std::vector<uint32_t>* walk) {
  for (size_t off = 0; off + 8 <= n; off += 8) {
    uint64_t w;
    std::memcpy(&w, p + off, 8);
    const int64_t t = index_->Find(w);
    if (t < 0 || (state_[t] & kMarkBits) != kUnmarked || size_t(t) == leader) continue;
    if (w - blocks_[t].address == NextChunkOffset(blocks_[t].size)) continue;
    state_[t] |= kIndirect;
    if (!(state_[t] & kVisited)) {
      state_[t] |= kVisited;
      walk->push_back(uint32_t(t));
    }
  }
}

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kReachable:
      return "still reachable";
    case Verdict::kPossiblyLost:
      return "possibly lost";
    case Verdict::kIndirectlyLost:
      return "indirectly lost";
    case Verdict::kDefinitelyLost:
      return "definitely lost";
  }
  return "?";
}

void SortBlocks(std::vector<ScanBlock>* blocks) {
  std::sort(blocks->begin(), blocks->end(),
            [](const ScanBlock& a, const ScanBlock& b) { return a.address < b.address; });
  size_t kept = 0;
  uint64_t end = 0;
  for (const ScanBlock& b : *blocks) {
    if (kept > 0 && b.address < end) continue;
    (*blocks)[kept++] = b;
    end = b.address + std::max<uint64_t>(b.size, 1);
  }
  blocks->resize(kept);
}

std::vector<Verdict> ClassifyBlocks(const std::vector<ScanBlock>& blocks, const ScanRoots& roots,
                                    MemoryReader& memory, ScanCounts* counts) {
  MarkPhase phase(blocks);
  return phase.Classify(roots, memory, counts);
}

}  // namespace leakscope::collector
