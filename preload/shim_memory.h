// Memory for the shim's own data (stack table, encode buffers): mimalloc when
// it could be loaded, else the real allocator called directly. Never the
// intercepted malloc, so the shim's memory never shows up as the program's.
#pragma once

#include <cstddef>

namespace leakscope::preload {

void* ShimAlloc(size_t size);
void* ShimRealloc(void* p, size_t size);
void ShimFree(void* p);

}  // namespace leakscope::preload
