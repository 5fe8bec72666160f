// Event timestamps. They only need to order events across threads (see
// docs/ARCHITECTURE.md, "Why events stay in order"), so on x86-64 they are raw
// TSC reads: invariant and synchronized across cores on every CPU this runs on
// (constant_tsc/nonstop_tsc), ~7 ns, no syscall, no vDSO page. Elsewhere:
// CLOCK_MONOTONIC.
#pragma once

#include <time.h>

#include <atomic>
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

// The origin of ring records' timestamps: the clock when the process's first
// ring was taken (thread_rings.cc), so a record's timestamp fits in 56 bits
// for months (event_record.h). Set once, before any record; 0 until then.
extern std::atomic<uint64_t> g_event_clock_base;

// A ring record's timestamp. Only for a thread that has its ring: the base is
// set before any ring is handed out.
inline uint64_t EventTime() {
  return EventClockNow() - g_event_clock_base.load(std::memory_order_relaxed);
}

// The drain's watermark (EventTime's scale): 0 before the first ring, which
// takes nothing, so no record is taken against a clock it was not made on.
inline uint64_t EventWatermarkNow() {
  const uint64_t base = g_event_clock_base.load(std::memory_order_acquire);
  if (base == 0) return 0;
  const uint64_t now = EventClockNow();
  return now > base ? now - base : 0;
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
