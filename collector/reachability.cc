#include "reachability.h"

#include <algorithm>
#include <cstring>
#include <memory>

namespace leakscope::collector {
namespace {

// Blocks are read this many bytes at a time at most (the batch buffer), in at
// most this many ranges (one process_vm_readv: IOV_MAX).
constexpr size_t kBatchBytes = 4u << 20;
constexpr size_t kBatchRanges = 1024;

enum Mark : uint8_t { kUnmarked = 0, kPossible = 1, kStart = 2 };

// glibc's malloc lends a block the first 8 bytes of the next chunk's header,
// so its own pointers to that chunk (the arena's top, free lists) point 16
// bytes before the next block: into this one, at this offset. Such a word
// is the allocator's, not the program's (memcheck and LeakSanitizer, with
// allocators of their own, never see one); it is not taken as a pointer.
uint64_t NextChunkOffset(uint64_t size) {
  const uint64_t chunk = std::max<uint64_t>(32, (size + 8 + 15) & ~uint64_t(15));
  return chunk - 16;
}

class Marker {
 public:
  Marker(const std::vector<ScanBlock>& blocks, MemoryReader& memory, ScanCounts* counts)
      : blocks_(blocks), memory_(memory), counts_(counts), marks_(blocks.size(), kUnmarked) {
    if (!blocks.empty()) {
      lowest_ = blocks.front().address;
      highest_ = blocks.back().address + std::max<uint64_t>(blocks.back().size, 1);
    }
  }

  // The block `word` points into, or -1.
  int64_t Find(uint64_t word) const {
    if (word < lowest_ || word >= highest_) return -1;
    auto it = std::upper_bound(blocks_.begin(), blocks_.end(), word,
                               [](uint64_t w, const ScanBlock& b) { return w < b.address; });
    if (it == blocks_.begin()) return -1;
    --it;
    if (word - it->address >= std::max<uint64_t>(it->size, 1)) return -1;
    return it - blocks_.begin();
  }

  // A word of a root or of a block marked `from`.
  void Consider(uint64_t word, Mark from) {
    const int64_t i = Find(word);
    if (i < 0) return;
    if (word - blocks_[i].address == NextChunkOffset(blocks_[i].size)) return;
    const Mark to = (from == kStart && word == blocks_[i].address) ? kStart : kPossible;
    if (to <= marks_[i]) return;
    marks_[i] = to;
    work_.push_back(uint32_t(i));
  }

  void ScanWords(const uint8_t* p, size_t n, Mark from) {
    for (size_t off = 0; off + 8 <= n; off += 8) {
      uint64_t w;
      std::memcpy(&w, p + off, 8);
      Consider(w, from);
    }
  }

  void ScanRoots(const ScanRoots& roots) {
    for (uint64_t w : roots.words) Consider(w, kStart);
    std::unique_ptr<uint8_t[]> buffer(new uint8_t[kBatchBytes]);  // not zeroed
    for (const MemoryRange& r : roots.ranges) {
      // Aligned words only: start at the first 8-byte boundary.
      for (uint64_t at = (r.start + 7) & ~uint64_t(7); at < r.end;) {
        const size_t n = size_t(std::min<uint64_t>(r.end - at, kBatchBytes));
        const size_t got = memory_.Read(at, n, buffer.get());
        counts_->root_bytes += got;
        ScanWords(buffer.get(), got, kStart);
        if (got < n) counts_->unreadable_bytes += n - got;
        at += n;
      }
    }
  }

  // Scans marked blocks until none is left to scan. A block is pushed each
  // time its mark rises (at most twice): its words are then scanned with
  // the mark it has when its batch is read.
  void Drain() {
    std::unique_ptr<uint8_t[]> buffer(new uint8_t[kBatchBytes]);
    std::vector<MemoryRange> ranges;
    std::vector<uint32_t> which;
    std::vector<size_t> got;
    while (!work_.empty()) {
      ranges.clear();
      which.clear();
      size_t bytes = 0;
      while (!work_.empty() && ranges.size() < kBatchRanges) {
        const ScanBlock& b = blocks_[work_.back()];
        const uint64_t size = std::min<uint64_t>(b.size, kBatchBytes) & ~uint64_t(7);
        if (bytes + size > kBatchBytes && !ranges.empty()) break;
        if (size < b.size) ScanLarge(work_.back());
        ranges.push_back({b.address, b.address + size});
        which.push_back(work_.back());
        work_.pop_back();
        bytes += size;
      }
      got.assign(ranges.size(), 0);
      memory_.ReadMany(ranges.data(), ranges.size(), buffer.get(), got.data());
      size_t off = 0;
      for (size_t k = 0; k < ranges.size(); ++k) {
        const size_t n = ranges[k].end - ranges[k].start;
        counts_->heap_bytes += got[k];
        counts_->unreadable_bytes += n - got[k];
        ScanWords(buffer.get() + off, got[k], Mark(marks_[which[k]]));
        off += n;
      }
    }
  }

  // What lies beyond the first batch of a block larger than one batch.
  void ScanLarge(uint32_t i) {
    const ScanBlock& b = blocks_[i];
    const Mark from = Mark(marks_[i]);
    std::unique_ptr<uint8_t[]> buffer(new uint8_t[kBatchBytes]);
    const uint64_t end = b.address + (b.size & ~uint64_t(7));
    for (uint64_t at = b.address + kBatchBytes; at < end; at += kBatchBytes) {
      const size_t n = size_t(std::min<uint64_t>(end - at, kBatchBytes));
      const size_t got = memory_.Read(at, n, buffer.get());
      counts_->heap_bytes += got;
      counts_->unreadable_bytes += n - got;
      ScanWords(buffer.get(), got, from);
    }
  }

  // memcheck's cliques: each unmarked block, in address order, that is not
  // yet known to be indirect leads a walk that makes every unmarked block it
  // reaches indirectly lost. A leader reached later from another leader's
  // walk becomes indirect too; a leader is never made indirect by its own
  // walk (a cycle).
  std::vector<Verdict> Verdicts() {
    std::vector<Verdict> v(blocks_.size(), Verdict::kDefinitelyLost);
    std::vector<uint8_t> indirect(blocks_.size(), 0);
    std::vector<uint8_t> visited(blocks_.size(), 0);
    std::vector<uint32_t> walk;
    std::vector<uint8_t> buffer;
    for (size_t leader = 0; leader < blocks_.size(); ++leader) {
      if (marks_[leader] != kUnmarked || visited[leader]) continue;
      visited[leader] = 1;
      walk.assign(1, uint32_t(leader));
      while (!walk.empty()) {
        const ScanBlock& b = blocks_[walk.back()];
        walk.pop_back();
        const uint64_t size = b.size & ~uint64_t(7);
        buffer.resize(size);
        const size_t got = memory_.Read(b.address, size, buffer.data());
        for (size_t off = 0; off + 8 <= got; off += 8) {
          uint64_t w;
          std::memcpy(&w, buffer.data() + off, 8);
          const int64_t t = Find(w);
          if (t < 0 || marks_[t] != kUnmarked || size_t(t) == leader) continue;
          if (w - blocks_[t].address == NextChunkOffset(blocks_[t].size)) continue;
          indirect[t] = 1;
          if (!visited[t]) {
            visited[t] = 1;
            walk.push_back(uint32_t(t));
          }
        }
      }
    }
    for (size_t i = 0; i < blocks_.size(); ++i) {
      if (marks_[i] == kStart)
        v[i] = Verdict::kReachable;
      else if (marks_[i] == kPossible)
        v[i] = Verdict::kPossiblyLost;
      else if (indirect[i])
        v[i] = Verdict::kIndirectlyLost;
    }
    return v;
  }

 private:
  const std::vector<ScanBlock>& blocks_;
  MemoryReader& memory_;
  ScanCounts* counts_;
  std::vector<uint8_t> marks_;
  std::vector<uint32_t> work_;
  uint64_t lowest_ = 0, highest_ = 0;
};

}  // namespace

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

void MemoryReader::ReadMany(const MemoryRange* ranges, size_t n, uint8_t* out, size_t* got) {
  for (size_t i = 0; i < n; ++i) {
    const size_t size = ranges[i].end - ranges[i].start;
    got[i] = Read(ranges[i].start, size, out);
    out += size;
  }
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
  ScanCounts ignored;
  Marker marker(blocks, memory, counts ? counts : &ignored);
  marker.ScanRoots(roots);
  marker.Drain();
  return marker.Verdicts();
}

}  // namespace leakscope::collector
