// Memory for the shim's own data (stack table, encode buffers): mimalloc when
// it could be loaded, else the real allocator called directly. Never the
// intercepted malloc, so the shim's memory never shows up as the program's.
#pragma once

#include <cstddef>

namespace leakscope::preload {

void* ShimAlloc(size_t size);
void* ShimRealloc(void* p, size_t size);
void ShimFree(void* p);

// realloc with mimalloc loaded, for a block from either heap: a block from
// the system allocator (allocated before mimalloc was loaded) moves to
// mimalloc. The shim's own blocks and, in mimalloc mode, the program's.
void* MixedRealloc(void* p, size_t size);

}  // namespace leakscope::preload
