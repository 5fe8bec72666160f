#include "shim_memory.h"

#include <cstring>

#include "real_allocator.h"

namespace leakscope::preload {

// What the shim allocated before mimalloc was loaded (a thread the program
// started from an earlier constructor) came from the system allocator.
void* ShimAlloc(size_t size) {
  if (MimallocLoaded()) return Mi().malloc(size);
  return System()->malloc(size);
}

void* ShimRealloc(void* p, size_t size) {
  if (!MimallocLoaded()) return System()->realloc(p, size);
  return MixedRealloc(p, size);
}

void* MixedRealloc(void* p, size_t size) {
  if (!p || Mi().is_in_heap_region(p)) return Mi().realloc(p, size);
  void* q = Mi().malloc(size);
  if (!q) return nullptr;
  const size_t old = System()->malloc_usable_size(p);
  std::memcpy(q, p, old < size ? old : size);
  System()->free(p);
  return q;
}

void ShimFree(void* p) {
  if (MimallocLoaded() && Mi().is_in_heap_region(p)) return Mi().free(p);
  System()->free(p);
}

}  // namespace leakscope::preload
