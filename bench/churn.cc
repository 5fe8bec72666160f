// The allocation-churn workload of scripts/compare-peers: N threads, each
// doing M malloc/free pairs of 16-512 bytes through a small live window, the
// pattern of a request-serving program whose memory is short-lived. It is
// deterministic (a fixed generator per thread index), so every tool sees the
// same sequence of calls, and it leaks a known amount on purpose (kLeakSlots
// blocks per thread from one function) so leak reports can be compared.
//
// usage: churn [--threads N] [--pairs M] [--touch]
//   --touch writes every allocated byte (memset), since real programs touch
//   their memory: without it the allocator's cost is all there is to slow.
// Prints one line on stderr: the time of the churn loop alone (threads
// started, before exit), and ns per malloc+free pair per thread.
#include <pthread.h>
#include <stdint.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kWindow = 64;    // live slots per thread
constexpr int kLeakSlots = 8;  // blocks per thread never freed, on purpose
constexpr size_t kMinSize = 16, kMaxSize = 512;

struct Options {
  int threads = 1;
  long pairs = 2000000;
  bool touch = false;
};

// xorshift64: deterministic, no allocation, cheap next to malloc.
struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

pthread_barrier_t g_start;

// A function of its own, so the deliberate leak has one call site.
__attribute__((noinline)) void LeakSome(void** slots) {
  for (int i = 0; i < kLeakSlots; ++i) {
    slots[i] = std::malloc(100 + i);
    if (slots[i] == nullptr) std::abort();
    asm volatile("" : : "r"(slots[i]) : "memory");  // the pointer escapes
  }
}

void Churn(int index, const Options& o) {
  Rng rng{0x9E3779B97F4A7C15ull * static_cast<uint64_t>(index + 1)};
  void* slots[kWindow] = {};
  pthread_barrier_wait(&g_start);
  for (long i = 0; i < o.pairs; ++i) {
    const uint64_t r = rng.Next();
    const int slot = static_cast<int>(r % kWindow);
    const size_t size = kMinSize + (r >> 32) % (kMaxSize - kMinSize + 1);
    std::free(slots[slot]);
    void* p = std::malloc(size);
    if (p == nullptr) std::abort();
    if (o.touch) std::memset(p, static_cast<int>(i), size);
    slots[slot] = p;
  }
  for (void* p : slots) std::free(p);
  void* leaked[kLeakSlots];
  LeakSome(leaked);
}

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--touch") {
      o->touch = true;
    } else if (a == "--threads" && i + 1 < argc) {
      o->threads = std::atoi(argv[++i]);
    } else if (a == "--pairs" && i + 1 < argc) {
      o->pairs = std::atol(argv[++i]);
    } else {
      return false;
    }
  }
  return o->threads > 0 && o->pairs > 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) {
    std::fprintf(stderr, "usage: %s [--threads N] [--pairs M] [--touch]\n", argv[0]);
    return 2;
  }
  // N workers plus this thread, which starts the clock once all are ready.
  pthread_barrier_init(&g_start, nullptr, static_cast<unsigned>(o.threads + 1));
  std::vector<std::thread> workers;
  for (int t = 0; t < o.threads; ++t) workers.emplace_back(Churn, t, std::cref(o));
  pthread_barrier_wait(&g_start);
  const auto start = std::chrono::steady_clock::now();
  for (auto& w : workers) w.join();
  const double ns =
      std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
  std::fprintf(stderr, "churn: threads=%d pairs=%ld touch=%d loop_s=%.3f ns_per_pair=%.1f\n",
               o.threads, o.pairs, o.touch ? 1 : 0, ns / 1e9, ns / double(o.pairs));
  return 0;
}
