// Microbenchmarks of the shim's hot paths, piece by piece (ring push, stack
// dedup, sampler, sampled set, event encoding, unwinding, the stack cache) and whole
// (BM_MallocFree*: the program's own malloc+free, and BM_MmapMunmap, which go
// through the real shim only when this binary runs under
// LD_PRELOAD=libleakscope.so).
// scripts/compare-peers runs BM_MallocFree* bare and preloaded and reports
// the difference; the pieces explain where that difference goes.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <vector>

#include "event_record.h"
#include "no_unwind_tables.h"
#include "ring_buffer.h"
#include "sampled_set.h"
#include "sampler.h"
#include "stack_table.h"
#include "stack_unwind.h"
#include "transient_folder.h"
#include "wire_writer.h"

namespace leakscope::preload {
namespace {

// --- whole path: the program's malloc+free --------------------------------

void BM_MallocFree(benchmark::State& state) {
  const size_t size = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    void* p = std::malloc(size);
    benchmark::DoNotOptimize(p);
    std::free(p);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MallocFree)->Arg(16)->Arg(256);

// The program's own anonymous mapping and its unmap (preload/mappings.cc):
// recorded in every mode, each map with a full unwind. Pages never touched:
// the syscalls' own cost, without page faults.
void BM_MmapMunmap(benchmark::State& state) {
  const size_t bytes = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    benchmark::DoNotOptimize(p);
    munmap(p, bytes);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MmapMunmap)->Arg(64 << 10);

// Same pair under a stack `depth` frames deeper: what the unwinder walks.
__attribute__((noinline)) void MallocFreeAt(int depth, size_t size) {
  if (depth > 0) {
    MallocFreeAt(depth - 1, size);
    asm volatile("");  // not a tail call: keep every frame
    return;
  }
  void* p = std::malloc(size);
  benchmark::DoNotOptimize(p);
  std::free(p);
}
void BM_MallocFreeDeep(benchmark::State& state) {
  const int depth = static_cast<int>(state.range(0));
  for (auto _ : state) MallocFreeAt(depth, 64);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MallocFreeDeep)->Arg(10)->Arg(30);

// Two call chains at one stack pointer (malloc's callers differ, the rest is
// one call site), switching every `state.range(0)` pairs: through the shim,
// each switch misses the stack cache. 1: every pair misses and no chain is
// ever stored (the miss path); 2: each chain misses twice, is stored, and is
// replaced by the other (the worst case: a walk for slots every other pair);
// 1000: a miss per 1000 pairs.
template <int kChain>
__attribute__((noinline)) void MallocFreeFrom(size_t size) {
  void* p = std::malloc(size + kChain);  // kChain: distinct code, never folded into one
  benchmark::DoNotOptimize(p);
  std::free(p);
}
void (*volatile g_malloc_free_from[2])(size_t) = {MallocFreeFrom<0>, MallocFreeFrom<1>};
void BM_MallocFreeSwitching(benchmark::State& state) {
  const int64_t run = state.range(0);
  int64_t i = 0;
  for (auto _ : state) g_malloc_free_from[(i++ / run) & 1](64);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MallocFreeSwitching)->Arg(1)->Arg(2)->Arg(1000);

// --- pieces -----------------------------------------------------------------

// unw_backtrace alone, from `depth` frames down: the cost of a recorded
// (every-allocation or sampled) malloc beyond the ring push.
__attribute__((noinline)) int UnwindAt(int depth, void** pcs) {
  if (depth > 0) {
    int n = UnwindAt(depth - 1, pcs);
    asm volatile("");
    return n;
  }
  return unw_backtrace(pcs, 64);
}
void BM_Unwind(benchmark::State& state) {
  void* pcs[64];
  const int depth = static_cast<int>(state.range(0));
  for (auto _ : state) benchmark::DoNotOptimize(UnwindAt(depth, pcs));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Unwind)->Arg(0)->Arg(10)->Arg(30);

// The stack cache's pieces on a real stack `depth` frames down (stack_unwind.h):
// the fast trace plus the walk for slots (a miss that stores an entry), and
// a lookup that hits (every recorded allocation from a cached stack).
// RuleWalk (frame_walk.h) gives the same frames and slots in one walk.
enum class CachePart { kUnwindWithSlots, kRuleWalk, kLookupHit };

// The calling thread's stack [*lo, *hi), as RuleWalk takes it.
bool ThisStack(uint64_t* lo, uint64_t* hi) {
  pthread_attr_t attr;
  void* base;
  size_t size;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return false;
  const bool ok = pthread_attr_getstack(&attr, &base, &size) == 0;
  pthread_attr_destroy(&attr);
  *lo = reinterpret_cast<uint64_t>(base);
  *hi = *lo + size;
  return ok;
}
__attribute__((noinline)) void CacheAt(int depth, CachePart part, benchmark::State& state) {
  if (depth > 0) {
    CacheAt(depth - 1, part, state);
    asm volatile("");
    return;
  }
  const uint64_t sp = reinterpret_cast<uint64_t>(__builtin_frame_address(0));
  const uint64_t ra = reinterpret_cast<uint64_t>(__builtin_return_address(0));
  auto own = [ra](uint64_t pc) { return pc != ra; };  // from CacheAt's caller up
  uint64_t pcs[kMaxFrames], slots[kMaxFrames];
  static StackCache cache;  // large: not on the stack
  cache.Clear();
  if (part == CachePart::kUnwindWithSlots) {
    for (auto _ : state) {
      const uint32_t n = FastUnwind(pcs, own);
      if (!FindSlots(pcs, n, slots, own)) return state.SkipWithError("no slots");
    }
    return;
  }
  if (part == CachePart::kRuleWalk) {
    uint64_t lo, hi;
    if (!ThisStack(&lo, &hi)) return state.SkipWithError("no stack bounds");
    for (auto _ : state) {
      if (!RuleWalk(pcs, slots, own, lo, hi)) return state.SkipWithError("no walk");
    }
    return;
  }
  const uint32_t n = FastUnwind(pcs, own);
  if (!FindSlots(pcs, n, slots, own) || !cache.Store(sp, ~uint64_t{0}, pcs, slots, n))
    return state.SkipWithError("not cached");
  for (auto _ : state) benchmark::DoNotOptimize(cache.Lookup(sp));
}
void BM_UnwindWithSlots(benchmark::State& state) {
  CacheAt(static_cast<int>(state.range(0)), CachePart::kUnwindWithSlots, state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UnwindWithSlots)->Arg(0)->Arg(10)->Arg(30);
void BM_RuleWalk(benchmark::State& state) {
  CacheAt(static_cast<int>(state.range(0)), CachePart::kRuleWalk, state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RuleWalk)->Arg(0)->Arg(10)->Arg(30);

#if defined(__x86_64__)
// Through 10 frames without unwind tables (tests/preload/no_unwind_tables.h),
// the fast trace (Arg 0: libunwind's slow path) against RuleWalk (Arg 1).
struct JitBench {
  benchmark::State* state;
  int frames;  // left to make
  uint64_t lo, hi;
};
void ThroughJit(void* arg) {
  JitBench& b = *static_cast<JitBench*>(arg);
  if (b.frames-- > 0) return LeakscopeCallWithoutUnwindTables(ThroughJit, arg);
  auto own = [](uint64_t) { return false; };
  uint64_t pcs[kMaxFrames], slots[kMaxFrames];
  if (b.state->range(0) == 0) {
    for (auto _ : *b.state) benchmark::DoNotOptimize(FastUnwind(pcs, own));
  } else {
    for (auto _ : *b.state) {
      if (!RuleWalk(pcs, slots, own, b.lo, b.hi)) return b.state->SkipWithError("no walk");
    }
  }
}
void BM_UnwindThroughJitFrames(benchmark::State& state) {
  JitBench b{&state, 10, 0, 0};
  if (!ThisStack(&b.lo, &b.hi)) return state.SkipWithError("no stack bounds");
  ThroughJit(&b);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_UnwindThroughJitFrames)->Arg(0)->Arg(1);
#endif
void BM_StackCacheHit(benchmark::State& state) {
  CacheAt(static_cast<int>(state.range(0)), CachePart::kLookupHit, state);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StackCacheHit)->Arg(0)->Arg(10)->Arg(30);

// One record of 4 header words + `frames` pcs; the consumer (same thread
// here) releases everything when the ring is full, as the drain thread would.
void BM_RingPush(benchmark::State& state) {
  const size_t frames = static_cast<size_t>(state.range(0));
  std::vector<uint64_t> storage(size_t{1} << 16);  // 512 KiB, the default ring
  RingBuffer ring;
  ring.Init(storage.data(), storage.size());
  std::vector<uint64_t> rec(4 + frames, 7);
  for (auto _ : state) {
    if (!ring.TryPush(rec.data(), rec.size())) {
      ring.ReleaseTo(ring.WritePos());
      ring.TryPush(rec.data(), rec.size());
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(rec.size() * 8));
}
BENCHMARK(BM_RingPush)->Arg(0)->Arg(12)->Arg(30);

// One thread's life in its ring as in bench/churn.cc --threads 500 --pairs
// 4000: 4,000 cached allocation records and 4,000 frees, written as the hot
// path writes them (ReserveFast, the words, Commit), into a fresh 512 KiB
// mapping as the shim's rings are: the first touch of each page is much of
// the cost. Arg 2: today's records (event_record.h: packed, 2 + 1 words,
// 96 KiB); kept for comparison, Arg 1: the short records (3 + 2 words,
// 160 KiB) and Arg 0: the same events before them (4 + 3 words, 224 KiB).
// The consumer lags (as with 500 threads on 2 CPUs): nothing is released.
// Not timed: the unmap (rings are never unmapped).
void BM_FreshRingBurst(benchmark::State& state) {
  const int format = static_cast<int>(state.range(0));
  constexpr size_t kWords = size_t{1} << 16;
  const uint64_t cached = kAllocCachedLongHeader | uint64_t{0x13} << 32;
  for (auto _ : state) {
    void* mem =
        mmap(nullptr, kWords * 8, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
      state.SkipWithError("mmap");
      break;
    }
    auto* words = static_cast<uint64_t*>(mem);
    RingBuffer ring;
    ring.Init(words, kWords);
    uint64_t last_time = 0;
    for (uint64_t i = 1; i <= 4000; ++i) {
      const uint64_t address = 0x7f00'0000'1000 + i * 64, time = i * 100;
      uint64_t* rec = ring.ReserveFast(kRecordHeaderWords);
      if (rec == nullptr) break;
      if (format == 2) {
        ring.Commit(EncodeAlloc(rec, cached, time, last_time, address, 100));
      } else if (format == 1) {
        rec[0] = ShortWord0(EventKind::kAllocCached, time);
        rec[1] = address;
        rec[2] = SizeAndRef(100, 0x13);
        ring.Commit(kAllocCachedRecordWords);
      } else {
        rec[0] = cached;
        rec[1] = time;
        rec[2] = address;
        rec[3] = 100;
        ring.Commit(4);
      }
      rec = ring.ReserveFast(kFreeLongRecordWords);
      if (rec == nullptr) break;
      if (format == 2) {
        ring.Commit(EncodeFree(rec, time + 50, time, address));
        last_time = time + 50;
      } else if (format == 1) {
        rec[0] = ShortWord0(EventKind::kFree, time + 50);
        rec[1] = address;
        ring.Commit(kFreeRecordWords);
      } else {
        rec[0] = kFreeLongHeader;
        rec[1] = time + 50;
        rec[2] = address;
        ring.Commit(kFreeLongRecordWords);
      }
    }
    benchmark::DoNotOptimize(words[0]);
    state.PauseTiming();
    munmap(mem, kWords * 8);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations() * 8000);
}
BENCHMARK(BM_FreshRingBurst)->Arg(0)->Arg(1)->Arg(2)->MeasureProcessCPUTime()->UseRealTime();

// Stacks of `kFrames` pcs, `state.range(0)` distinct ones, interned round
// robin: after the first pass every call is a hit, as on a steady program.
constexpr uint32_t kFrames = 16;
std::vector<uint64_t> MakeStacks(size_t count) {
  std::vector<uint64_t> pcs(count * kFrames);
  uint64_t x = 0x400000;
  for (size_t i = 0; i < pcs.size(); ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    pcs[i] = 0x400000 + (x >> 40);
  }
  return pcs;
}
void BM_StackInternHit(benchmark::State& state) {
  const size_t count = static_cast<size_t>(state.range(0));
  const std::vector<uint64_t> pcs = MakeStacks(count);
  StackTable table;
  size_t i = 0;
  bool is_new;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.Intern(&pcs[i * kFrames], kFrames, &is_new));
    if (++i == count) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StackInternHit)->Arg(100)->Arg(10000);

// Every stack new: the first sighting of each (and the table's growth).
void BM_StackInternNew(benchmark::State& state) {
  const size_t count = 100000;
  const std::vector<uint64_t> pcs = MakeStacks(count);
  StackTable table(256u << 20);
  size_t i = 0;
  bool is_new;
  for (auto _ : state) {
    benchmark::DoNotOptimize(table.Intern(&pcs[i * kFrames], kFrames, &is_new));
    if (++i == count) {
      i = 0;
      state.PauseTiming();
      table.Clear();
      state.ResumeTiming();
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StackInternNew);

// The sampled-mode fast path of an allocation at interval R: one countdown.
void BM_SamplerMaybeSample(benchmark::State& state) {
  Sampler s;
  s.Init(static_cast<uint64_t>(state.range(0)), 1);
  uint64_t size = 16, sampled = 0;
  for (auto _ : state) {
    if (s.MaybeSample(size)) sampled += s.Decide(size);
    size = size * 5 % 509 + 16;
  }
  benchmark::DoNotOptimize(sampled);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SamplerMaybeSample)->Arg(512 << 10);

// The sampled-mode cost of an unsampled free: one probe of the shared set,
// which holds `state.range(0)` sampled pointers spread over the heap.
SampledSet<16> g_set;
void BM_SampledSetMissingErase(benchmark::State& state) {
  for (int64_t i = 0; i < state.range(0); ++i)
    g_set.Insert(0x7f0000000000ull + uint64_t(i) * 4096 * 7);
  uint64_t p = 0x550000000000ull, found = 0;
  for (auto _ : state) {
    found += g_set.Erase(p);
    p += 48;  // neighbours, as a program's frees mostly are
  }
  benchmark::DoNotOptimize(found);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SampledSetMissingErase)->Arg(1000);

void BM_SampledSetInsertErase(benchmark::State& state) {
  SampledSet<16>* set = new SampledSet<16>();
  uint64_t p = 0x7f0000001000ull;
  for (auto _ : state) {
    set->Insert(p);
    set->Erase(p);
    p += 4096 + 48;
  }
  delete set;
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SampledSetInsertErase);

// A churn-like event stream for the drain's benchmarks: 64 live slots, each
// pair frees a slot's block and allocates a new one. A slot's addresses come
// from its own 4 KiB (an allocator never hands out a live address).
struct ChurnEvents {
  uint64_t x = 1, events = 0;
  uint64_t live[64] = {};
  template <class Sink>
  void NextPair(Sink* sink) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    const uint64_t index = x % 64;
    uint64_t& slot = live[index];
    if (slot) sink->AddFree(slot);
    slot = 0x5555'5555'0000ull + index * 4096 + ((x >> 20) % 256) * 16;
    sink->AddAlloc(slot, 16 + (x >> 32) % 497, 1 + (x >> 50) % 50);
    events += 2;
  }
};

// Encodes columns into one LZ4 frame, as the drain sends them, and counts
// the bytes.
struct Framer {
  ByteBuffer msg, out;
  uint64_t wire_bytes = 0, framed_events = 0;
  void Frame(EventColumns* columns, uint64_t events) {
    columns->EncodeAndClear(events, &msg);
    EncodeFrame(msg, &out);
    wire_bytes += out.size();
    framed_events = events;
    msg.Clear();
    out.Clear();
  }
  void Report(benchmark::State& state, uint64_t events) const {
    state.SetItemsProcessed(static_cast<int64_t>(events));
    state.counters["wire_bytes_per_event"] =
        framed_events ? double(wire_bytes) / double(framed_events) : 0;
  }
};

// The drain thread's per-event encoding: columns, then one LZ4 frame per
// 16384 events (about 10 ms of a busy thread).
void BM_EncodeEvents(benchmark::State& state) {
  EventColumns columns;
  ChurnEvents churn;
  Framer framer;
  for (auto _ : state) {
    churn.NextPair(&columns);
    if (columns.count() >= 16384) framer.Frame(&columns, churn.events);
  }
  framer.Report(state, churn.events);
}
BENCHMARK(BM_EncodeEvents);

// The same churn through the drain's fold (transient_folder.h) and encoding:
// per event, pairing, the walk that places adjustments, and what is left to
// encode. Arg: TransientFolder::Mode (0 sends every event, 1 folds, 2 folds
// naming addresses, as after a lost event).
void BM_FoldAndEncodeEvents(benchmark::State& state) {
  TransientFolder batch;
  if (!batch.Prepare()) return state.SkipWithError("no memory for the batch");
  EventColumns columns;
  ChurnEvents churn;
  Framer framer;
  const auto mode = static_cast<TransientFolder::Mode>(state.range(0));
  for (auto _ : state) {
    churn.NextPair(&batch);
    if (batch.size() + 2 > TransientFolder::kBatchEvents) {
      batch.FlushInto(&columns, mode);
      framer.Frame(&columns, churn.events);
    }
  }
  framer.Report(state, churn.events);
}
BENCHMARK(BM_FoldAndEncodeEvents)->Arg(0)->Arg(1)->Arg(2);

}  // namespace
}  // namespace leakscope::preload

BENCHMARK_MAIN();
