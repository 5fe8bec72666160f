// What the traced process's RSS is made of (wire.MemoryStats), read by the
// drain thread at most once a second and at the end: the allocator's own
// figures (only the process itself can ask: glibc's mallinfo2(), mimalloc's
// mi_process_info()) and /proc/self/smaps by kind of mapping.
//
// Never on the allocation path, never in a signal handler: mallinfo2() takes
// every arena's lock in turn (a handler that interrupted malloc would wait on
// a lock its own thread holds).
#pragma once

#include <cstddef>
#include <cstdint>

namespace leakscope::preload {

struct MemoryFigures {
  uint32_t allocator = 0;  // wire.MemoryStats.Allocator
  uint64_t allocator_in_use = 0, allocator_free = 0, allocator_mapped = 0, allocator_releasable = 0;
  bool maps_read = false;
  uint64_t rss = 0, anonymous = 0, stack = 0, file = 0;
  uint32_t thread_stacks = 0;
};

// /proc/PID/smaps, fed in pieces of any size (no allocation: a process at its
// memory limit still reads it), tallied by kind of mapping into `out`:
//   - [stack], and a read-write anonymous mapping right above an adjacent
//     inaccessible one of at most 1 MiB (glibc puts a thread's guard page below
//     its stack; malloc's arenas have their inaccessible reserve above):
//     stack;
//   - a file's pages (Rss - Anonymous), vdso and other named kernel areas,
//     shared memory other than anonymous: file;
//   - everything anonymous ([heap], anonymous mmap private or shared, copy-on-
//     write pages of file mappings): anonymous.
class SmapsTally {
 public:
  explicit SmapsTally(MemoryFigures* out) : out_(out) {}
  void Feed(const char* data, size_t n);
  void Finish();  // after the last piece

 private:
  enum class Kind : uint8_t { kNone, kAnonymous, kFile, kStack, kGuard };
  void Line(const char* line, size_t n);
  void Header(const char* line, size_t n);
  void EndMapping();

  MemoryFigures* out_;
  char line_[256];  // longer lines are cut: only their start matters
  size_t line_len_ = 0;
  // The mapping being read, and the previous one (a guard page below it?).
  Kind kind_ = Kind::kNone;
  bool writable_ = false;
  uint64_t start_ = 0, end_ = 0, rss_ = 0, anon_ = 0;
  uint64_t guard_end_ = 0;  // end of the previous mapping if it was a small inaccessible one
};

// The allocator's figures into `out` (allocator fields only). `mimalloc`: the
// program's allocator is the shim's mimalloc.
void ReadAllocatorFigures(bool mimalloc, MemoryFigures* out);

// /proc/self/smaps from descriptor `fd` (read from offset 0 each time) into
// `out` (maps fields only). False if it could not be read.
bool ReadSmapsFigures(int fd, MemoryFigures* out);

}  // namespace leakscope::preload
