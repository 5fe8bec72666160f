// Known leaks, then waits: for pulling the live heap from leakscoped while
// the process runs (tests/collector/pprof_pull_test.cc). LeakPages keeps
// 100 x 4096 bytes, LeakRecords 50 x 1000; then "ready" on stdout, and it
// exits when stdin closes. write/read, not stdio: no buffers of libc's in
// the heap.
#include <unistd.h>

#include <cstdlib>

namespace {

void* kept[150];

__attribute__((noinline)) void* LeakPages() {
  return std::malloc(4096);
}

__attribute__((noinline)) void* LeakRecords() {
  return std::malloc(1000);
}

}  // namespace

int main() {
  for (int i = 0; i < 100; ++i) kept[i] = LeakPages();
  for (int i = 0; i < 50; ++i) kept[100 + i] = LeakRecords();
  if (write(1, "ready\n", 6) != 6) return 1;
  char c;
  while (read(0, &c, 1) > 0) {
  }
  return kept[0] == nullptr;
}
