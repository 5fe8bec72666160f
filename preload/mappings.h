// The shim's own mmap and munmap: straight to the kernel, never through the
// interposed functions (preload/mappings.cc), so the shim's memory and its
// private mimalloc's (whose imports bind here: private_mimalloc.cc) are never
// taken for the program's mappings, and need no hook resolved first.
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace leakscope::preload {

void* ShimMmap(void* address, size_t length, int prot, int flags, int fd, off_t offset);
int ShimMunmap(void* address, size_t length);

}  // namespace leakscope::preload
