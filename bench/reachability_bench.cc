// The reachability scan's cost (issue #16): the mark phase over a real heap
// read with process_vm_readv, as the collector reads a stopped process.
// BM_ScanHeap/N: N blocks of 104 bytes in one mapping (10M of them: ~1 GiB),
// every block reachable through a chain that starts in a root word, so every
// byte is read and every word looked up. Reports bytes/s of heap scanned; the
// time per iteration is the pause a process with that heap would see (the
// stop and the roots add little: tests measure them, not this).
//   build/bin/reachability_bench --benchmark_filter=BM_ScanHeap/10000000
#include <benchmark/benchmark.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <vector>

#include "chunk_cache.h"
#include "process_memory.h"
#include "reachability.h"

namespace {

using leakscope::collector::ChunkCache;
using leakscope::collector::MarkPhase;
using leakscope::collector::ProcessMemory;
using leakscope::collector::ScanBlock;
using leakscope::collector::ScanRoots;

constexpr size_t kBlockBytes = 104;

// Reads the bench's own memory in place: the mark phase alone, no copy.
class InPlace : public leakscope::collector::MemoryReader {
 public:
  size_t Read(uint64_t address, size_t size, uint8_t* out) override {
    std::memcpy(out, reinterpret_cast<const void*>(address), size);
    return size;
  }
  const uint8_t* Peek(uint64_t address, size_t) override {
    return reinterpret_cast<const uint8_t*>(address);
  }
};

// N blocks of 104 bytes in one mapping, glibc's 112-byte chunks apart, each
// holding the next (the worst order for batching: found one at a time); the
// rest of their words are small integers. The root holds the first.
class ChainedHeap {
 public:
  static constexpr size_t kStride = 112;  // glibc's chunk for 104 bytes

  explicit ChainedHeap(size_t n) : n_(n) {
    void* p =
        mmap(nullptr, n * kStride, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return;
    heap_ = static_cast<uint8_t*>(p);
    blocks_.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const uint64_t at = reinterpret_cast<uint64_t>(heap_ + i * kStride);
      blocks_[i] = {at, kBlockBytes, uint32_t(i % 1000)};
      for (size_t w = 0; w < kBlockBytes / 8; ++w) {
        const uint64_t v = w == 0 && i + 1 < n ? at + kStride : w;
        std::memcpy(heap_ + i * kStride + w * 8, &v, 8);
      }
    }
    roots_.words.push_back(blocks_[0].address);
  }
  ~ChainedHeap() {
    if (heap_) munmap(heap_, n_ * kStride);
  }
  ChainedHeap(const ChainedHeap&) = delete;
  ChainedHeap& operator=(const ChainedHeap&) = delete;

  bool ok() const { return heap_ != nullptr; }
  const std::vector<ScanBlock>& blocks() const { return blocks_; }
  const ScanRoots& roots() const { return roots_; }
  int64_t bytes() const { return int64_t(n_ * kBlockBytes); }

 private:
  size_t n_;
  uint8_t* heap_ = nullptr;
  std::vector<ScanBlock> blocks_;
  ScanRoots roots_;
};

void BM_ScanHeap(benchmark::State& state) {
  const size_t n = size_t(state.range(0));
  ChainedHeap heap(n);
  if (!heap.ok()) {
    state.SkipWithError("mmap failed");
    return;
  }
  ProcessMemory self(getpid());
  std::unique_ptr<ChunkCache> cache;
  std::unique_ptr<MarkPhase> phase;
  for (auto _ : state) {
    // As reachability_scan.cc scans: a fresh cache and mark phase per scan,
    // made (and the last ones freed) before the process is stopped, so not
    // part of the pause.
    state.PauseTiming();
    phase.reset();
    cache.reset();
    cache = std::make_unique<ChunkCache>(self, size_t(heap.bytes()));
    phase = std::make_unique<MarkPhase>(heap.blocks());
    state.ResumeTiming();
    benchmark::DoNotOptimize(phase->Classify(heap.roots(), *cache).data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * heap.bytes());
}

void BM_MarkInPlace(benchmark::State& state) {
  ChainedHeap heap(size_t(state.range(0)));
  if (!heap.ok()) {
    state.SkipWithError("mmap failed");
    return;
  }
  InPlace memory;
  std::unique_ptr<MarkPhase> phase;
  for (auto _ : state) {
    state.PauseTiming();
    phase.reset();
    phase = std::make_unique<MarkPhase>(heap.blocks());
    state.ResumeTiming();
    benchmark::DoNotOptimize(phase->Classify(heap.roots(), memory).data());
  }
  state.SetBytesProcessed(int64_t(state.iterations()) * heap.bytes());
}
BENCHMARK(BM_MarkInPlace)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);

BENCHMARK(BM_ScanHeap)->Arg(100000)->Arg(1000000)->Arg(10000000)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
