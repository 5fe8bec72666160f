// A cache that never evicts, freed by its static destructor at exit. While the
// service runs it only grows, yet at exit none of it is left: no leak, and the
// report of a short run has no growth to show. kEntries entries, each one
// std::map node of kNodeBytes allocated at HELD(cache), are live when exit
// begins and freed by the map's destructor: "Held until shutdown" shows
// exactly kEntries x kNodeBytes = 100 x 1056 B there. One true leak beside it:
// kLostBytes at LEAK(lost), never freed.
//
// How it ends (argv[1]): "return" (default) returns from main, "thread-exit"
// calls exit() from a second thread while main waits for it, "_exit" and
// "quick_exit" tear nothing down (no destructors run: the cache is still
// allocated at the end, a leak, and nothing is held until shutdown).
#include <pthread.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <cstring>
#include <map>

#include "say.h"

namespace shutdown_example {

constexpr int kEntries = 100;
constexpr std::size_t kLostBytes = 700;

using Payload = std::array<char, 1020>;  // with the int key: a 1024-byte pair
// libstdc++'s node: a 32-byte header (colour, parent, left, right), then the pair.
constexpr std::size_t kNodeBytes = 1056;
static_assert(sizeof(std::_Rb_tree_node<std::pair<const int, Payload>>) == kNodeBytes,
              "shutdown_cache.expected.json counts 1056-byte nodes");

std::map<int, Payload> g_cache;  // destroyed at exit, after main
char* volatile g_lost;           // keeps the compiler from eliding the allocation

// noinline: the cache's call site must be this function.
__attribute__((noinline)) const Payload& Remember(int key) {
  auto [it, added] = g_cache.try_emplace(key);  // HELD(cache)
  if (added) std::memset(it->second.data(), 'c', it->second.size());
  return it->second;
}

__attribute__((noinline)) void LoseSomething() {
  g_lost = new char[kLostBytes];  // LEAK(lost)
  std::memset(g_lost, 'l', kLostBytes);
}

void* ExitFromThread(void*) {
  std::exit(0);
}

}  // namespace shutdown_example

int main(int argc, char** argv) {
  using namespace shutdown_example;
  unsigned long long served = 0;
  for (int round = 0; round < 3; ++round) {  // later rounds hit the cache
    for (int key = 0; key < kEntries; ++key) served += Remember(key)[0] == 'c';
  }
  LoseSomething();
  examples::Say("entries served", served);
  const char* how = argc > 1 ? argv[1] : "return";
  if (std::strcmp(how, "thread-exit") == 0) {
    pthread_t thread;
    if (pthread_create(&thread, nullptr, ExitFromThread, nullptr) != 0) return 1;
    pthread_join(thread, nullptr);  // never returns: the thread exits the process
  } else if (std::strcmp(how, "_exit") == 0) {
    _exit(0);
  } else if (std::strcmp(how, "quick_exit") == 0) {
    std::quick_exit(0);
  }
  return 0;
}
