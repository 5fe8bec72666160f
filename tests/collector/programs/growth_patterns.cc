// Three heap patterns side by side for ~3 s (300 ticks of 10 ms), for the
// growth-suspect test under the real shim:
//   GrowStore      1024 bytes per tick, never freed: a leak (307200 bytes at the end)
//   SawtoothAlloc  4096 bytes per tick, all freed every 25 ticks: request buffers
//   CacheInsert    2 x 2048 bytes per tick into 64 slots, the oldest evicted:
//                  an LRU cache, full after 32 ticks, then flat
// Each in its own non-inlined function so each is its own site.
// `growth_patterns TICKS` runs TICKS ticks instead (at most 6000: a minute).
#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace {

constexpr int kMaxTicks = 6000;
constexpr int kSawPeriod = 25;
constexpr int kCacheSlots = 64;

void* store[kMaxTicks];
void* saw[kSawPeriod];
void* cache[kCacheSlots];

__attribute__((noinline)) void* GrowStore() {
  return std::malloc(1024);
}
__attribute__((noinline)) void* SawtoothAlloc() {
  return std::malloc(4096);
}
__attribute__((noinline)) void* CacheInsert() {
  return std::malloc(2048);
}

void Touch(void* p, size_t n) {
  std::memset(p, 1, n);
}  // real memory, as a service's

void Tick(int i) {
  store[i] = GrowStore();
  Touch(store[i], 1024);
  saw[i % kSawPeriod] = SawtoothAlloc();
  Touch(saw[i % kSawPeriod], 4096);
  if (i % kSawPeriod == kSawPeriod - 1)
    for (void*& p : saw) std::free(p), p = nullptr;
  for (int k = 0; k < 2; ++k) {
    void*& slot = cache[(2 * i + k) % kCacheSlots];
    std::free(slot);  // the least recently inserted
    slot = CacheInsert();
    Touch(slot, 2048);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int ticks = argc > 1 ? std::min(std::max(std::atoi(argv[1]), 1), kMaxTicks) : 300;
  const timespec tick = {0, 10'000'000};
  for (int i = 0; i < ticks; ++i) {
    Tick(i);
    nanosleep(&tick, nullptr);
  }
  return 0;  // the store is still live: leaked
}
