#include "thread_rings.h"

#include <errno.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <new>

#include "clock.h"

namespace leakscope::preload {

std::atomic<uint64_t> g_event_clock_base{0};

namespace {

std::atomic<ThreadRing*> g_head{nullptr};
std::atomic<uint64_t> g_count{0};

ThreadRing* TakeFreeRing(uint32_t words) {
  for (ThreadRing* r = g_head.load(std::memory_order_acquire); r; r = r->next) {
    uint32_t expected = ThreadRing::kFree;
    if (r->ring.capacity_words() == words &&
        r->state.compare_exchange_strong(expected, ThreadRing::kOwned, std::memory_order_acquire))
      return r;
  }
  return nullptr;
}

}  // namespace

ThreadRing* AcquireThreadRing(uint32_t words) {
  // The first ring sets the clock's origin; every later owner sees it set
  // (by its own read here) before it writes a record.
  if (g_event_clock_base.load(std::memory_order_acquire) == 0) {
    uint64_t unset = 0;
    const uint64_t now = EventClockNow();
    g_event_clock_base.compare_exchange_strong(unset, now ? now : 1, std::memory_order_acq_rel);
  }
  if (ThreadRing* r = TakeFreeRing(words)) {
    r->stacks.Clear();  // the previous owner's stack
    // The drain's time of the last record, not the previous owner's: one
    // ended between the two (a thread killed mid-record) would leave them
    // apart. The drain wrote it before it freed the ring, and leaves it
    // until this thread's first record.
    r->last_time = r->drain_last_time;
    return r;
  }
  const size_t header = (sizeof(ThreadRing) + 63) & ~size_t{63};
  const size_t size = header + size_t{words} * sizeof(uint64_t);
  void* mem = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return nullptr;
  auto* r = new (mem) ThreadRing();
  r->ring.Init(reinterpret_cast<uint64_t*>(static_cast<char*>(mem) + header), words);
  r->mapping_size = size;
  ThreadRing* head = g_head.load(std::memory_order_relaxed);
  do {
    r->next = head;
  } while (
      !g_head.compare_exchange_weak(head, r, std::memory_order_release, std::memory_order_relaxed));
  g_count.fetch_add(1, std::memory_order_relaxed);
  return r;
}

void ReleaseThreadRing(ThreadRing* r) {
  // Cleared first: the drain never checks a tid that belongs to no owner.
  r->watch_tid.store(0, std::memory_order_relaxed);
  r->state.store(ThreadRing::kExited, std::memory_order_release);
}

void ReleaseRingsOfGoneThreads(int pid) {
  for (ThreadRing* r = g_head.load(std::memory_order_acquire); r; r = r->next) {
    if (r->state.load(std::memory_order_acquire) != ThreadRing::kOwned) continue;
    const int tid = r->watch_tid.load(std::memory_order_relaxed);
    // ESRCH: no such thread in this process any more. A reused tid only
    // delays the release until that thread is gone too.
    if (tid == 0 || syscall(SYS_tgkill, pid, tid, 0) == 0 || errno != ESRCH) continue;
    uint32_t owned = ThreadRing::kOwned;
    r->watch_tid.store(0, std::memory_order_relaxed);
    r->state.compare_exchange_strong(owned, ThreadRing::kExited, std::memory_order_acq_rel);
  }
}

void RecycleIfDrained(ThreadRing* r) {
  if (r->state.load(std::memory_order_acquire) != ThreadRing::kExited) return;
  if (r->ring.ReadPos() != r->ring.WritePos()) return;
  r->state.store(ThreadRing::kFree, std::memory_order_release);
}

ThreadRing* FirstThreadRing() {
  return g_head.load(std::memory_order_acquire);
}
uint64_t ThreadRingCount() {
  return g_count.load(std::memory_order_relaxed);
}

}  // namespace leakscope::preload
