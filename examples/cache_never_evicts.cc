// A response cache that never evicts: every distinct key renders a fresh
// 1000-byte buffer that is kept forever. The cache owns its entries through raw
// pointers and its destructor forgets them, so at exit exactly
// kKeys x kEntryBytes = 2000 x 1000 B are still allocated at the LEAK(cache) line.
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <unordered_map>

#include "say.h"

namespace cache_example {

constexpr int kKeys = 2000;
constexpr int kRounds = 3;  // later rounds hit the cache: no new allocations
constexpr std::size_t kEntryBytes = 1000;

class ResponseCache {
 public:
  const char* Get(int key);

 private:
  char* Render(int key);

  std::unordered_map<int, char*> entries_;  // nodes are freed; the buffers are not
};

// noinline: the leak must be reported at this function, not at its caller.
__attribute__((noinline)) char* ResponseCache::Render(int key) {
  char* buffer = new char[kEntryBytes];  // LEAK(cache)
  std::snprintf(buffer, kEntryBytes, "<response for key %d>", key);
  return buffer;
}

__attribute__((noinline)) const char* ResponseCache::Get(int key) {
  auto it = entries_.find(key);
  if (it != entries_.end()) return it->second;
  char* fresh = Render(key);
  entries_.emplace(key, fresh);
  return fresh;
}

}  // namespace cache_example

int main() {
  using namespace cache_example;
  ResponseCache cache;
  std::size_t served = 0;
  for (int round = 0; round < kRounds; ++round) {
    for (int key = 0; key < kKeys; ++key) served += std::strlen(cache.Get(key));
  }
  examples::Say("bytes served", served);
  return 0;
}
