// Event timestamps. They only need to order events across threads (see
// docs/ARCHITECTURE.md, "Why events stay in order"), so on x86-64 they are raw
// TSC reads: invariant and synchronized across cores on every CPU this runs on
// (constant_tsc/nonstop_tsc), ~7 ns, no syscall, no vDSO page. Elsewhere:
// CLOCK_MONOTONIC.
#pragma once

#include <time.h>

#include <cstdint>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

namespace leakscope::preload {

inline uint64_t EventClockNow() {
#if defined(__x86_64__)
  return __rdtsc();
#else
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
#endif
}

inline uint64_t MonotonicNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

inline uint64_t RealtimeNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

}  // namespace leakscope::preload
