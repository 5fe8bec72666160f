// Memory the program maps itself, beside the heap: per-request buffers
// mapped with mmap and only partly given back. leakscope shows them in the
// report's Mappings section, by call site, never among the heap sites.
//
// MAP(buffers) maps 3 x 1 MiB: one is unmapped, one loses its second half,
// one is grown to 4 MiB with mremap (which may move it). At exit:
// 512 KiB + 4 MiB in 2 live mappings of 3 calls, 6 MiB mapped in all
// (3 MiB, and 3 MiB by the mremap). MAP(shared) keeps a 64 KiB shared
// anonymous mapping. Not mappings: a file mapping (left mapped), a thread's
// stack and glibc malloc's own mmap of a big block (LEAK(big)), which the C
// library makes without going through the mmap symbol; the heap sites are
// LEAK(small) and LEAK(big), 1000 B and 1 MiB.
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "say.h"

namespace mapped_example {

constexpr size_t kMiB = 1 << 20;
constexpr int kReadWrite = PROT_READ | PROT_WRITE;

__attribute__((noinline)) char* MapBuffer(size_t bytes) {
  void* p = mmap(nullptr, bytes, kReadWrite, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);  // MAP(buffers)
  if (p == MAP_FAILED) std::abort();
  std::memset(p, 1, bytes);
  return static_cast<char*>(p);
}

__attribute__((noinline)) char* MapShared(size_t bytes) {
  void* p = mmap(nullptr, bytes, kReadWrite, MAP_SHARED | MAP_ANONYMOUS, -1, 0);  // MAP(shared)
  if (p == MAP_FAILED) std::abort();
  std::memset(p, 2, bytes);
  return static_cast<char*>(p);
}

__attribute__((noinline)) const char* MapThisProgram(const char* path) {
  const int fd = open(path, O_RDONLY);
  if (fd < 0) std::abort();
  void* p = mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);  // a file: not counted
  close(fd);
  if (p == MAP_FAILED) std::abort();
  return static_cast<const char*>(p);
}

void* Worker(void*) {
  return nullptr;
}

}  // namespace mapped_example

int main(int, char** argv) {
  using namespace mapped_example;
  char* a = MapBuffer(kMiB);
  char* b = MapBuffer(kMiB);
  char* c = MapBuffer(kMiB);
  munmap(a, kMiB);
  munmap(b + kMiB / 2, kMiB / 2);
  c = static_cast<char*>(mremap(c, kMiB, 4 * kMiB, MREMAP_MAYMOVE));
  if (c == MAP_FAILED) std::abort();
  std::memset(c, 3, 4 * kMiB);
  char* shared = MapShared(64 * 1024);
  const char* file = MapThisProgram(argv[0]);
  pthread_t thread;
  if (pthread_create(&thread, nullptr, Worker, nullptr) != 0 || pthread_join(thread, nullptr) != 0)
    std::abort();
  char* small = static_cast<char*>(std::malloc(1000));  // LEAK(small)
  char* big = static_cast<char*>(std::malloc(kMiB));    // LEAK(big)
  std::memset(small, 4, 1000);
  std::memset(big, 5, kMiB);
  examples::Say("mapped bytes kept", kMiB / 2 + 4 * kMiB + 64 * 1024);
  return b[0] + c[0] + shared[0] + file[0] == 0;  // keep them used
}
