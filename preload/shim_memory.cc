#include "shim_memory.h"

#include "real_allocator.h"

namespace leakscope::preload {

void* ShimAlloc(size_t size) {
  if (Mi().malloc) return Mi().malloc(size);
  return System()->malloc(size);
}

void* ShimRealloc(void* p, size_t size) {
  if (Mi().realloc) return Mi().realloc(p, size);
  return System()->realloc(p, size);
}

void ShimFree(void* p) {
  if (Mi().free) return Mi().free(p);
  System()->free(p);
}

}  // namespace leakscope::preload
