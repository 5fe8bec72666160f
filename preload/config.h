// Settings, read once from the environment at the first allocation. Parsing
// allocates nothing (it may run before the real allocator is known).
#pragma once

#include <cstdint>

namespace leakscope::preload {

struct Config {
  char socket_path[108] = {};       // LEAKSCOPE_SOCKET; empty = shim stays passive
  uint64_t sample_interval = 1;     // LEAKSCOPE_SAMPLE_INTERVAL, bytes; 1 = every allocation
  uint64_t seed = 0;                // LEAKSCOPE_SEED; 0 = from the clock
  bool lossless = false;            // LEAKSCOPE_LOSSLESS=1: wait on a full ring
  bool use_mimalloc = false;        // LEAKSCOPE_ALLOCATOR=mimalloc
  uint32_t ring_words = 1u << 16;   // LEAKSCOPE_RING_SIZE (RingWords), per thread
  uint32_t flush_interval_ms = 10;  // LEAKSCOPE_FLUSH_MS: drain period
  bool stack_cache = true;          // LEAKSCOPE_STACK_CACHE=0: always unwind with libunwind
  bool no_follow = false;           // LEAKSCOPE_NO_FOLLOW=1: programs it execs are not traced
  bool reachability = false;        // LEAKSCOPE_REACHABILITY=1: held at exit for a scan
  bool fold = true;  // LEAKSCOPE_FOLD=0: send every event (preload/transient_folder.h)
  // LEAKSCOPE_LABELS ("team=pay,tier=web"): sent as is in the Hello, for the
  // collector to check and put on this process's /metrics series.
  char labels[512] = {};
};

// The sampling interval when LEAKSCOPE_SAMPLE_INTERVAL is unset: the shim
// injected on its own is the production case, so it samples (512 KiB, as
// jemalloc's profiler; chosen by measurement, docs/BENCHMARKS.md "The default
// sampling interval"). `leakscope run` records every allocation unless told
// otherwise (it sets LEAKSCOPE_SAMPLE_INTERVAL=1).
constexpr uint64_t kDefaultSampleInterval = 512 * 1024;

// Each thread's event ring, unless LEAKSCOPE_RING_SIZE (or its older name
// LEAKSCOPE_RING_KB, a number of KiB) says otherwise.
constexpr uint64_t kDefaultRingBytes = 512 * 1024;

// A ring of `bytes` in 8-byte words: a power of two (the ring masks
// positions), rounded up, from 8 KiB to 128 MiB.
constexpr uint32_t RingWords(uint64_t bytes) {
  uint64_t words = 1024;
  while (words * 8 < bytes && words < (1u << 24)) words *= 2;
  return static_cast<uint32_t>(words);
}

void LoadConfig(Config* config);

}  // namespace leakscope::preload
