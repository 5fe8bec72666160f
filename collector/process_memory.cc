#include "process_memory.h"

#include <sys/uio.h>

#include <algorithm>

namespace leakscope::collector {
namespace {

constexpr size_t kPage = 4096;

}  // namespace

// process_vm_readv stops at the first page it cannot read: read in page
// pieces from there on, so a range half unmapped gives its mapped head.
size_t ProcessMemory::Read(uint64_t address, size_t size, uint8_t* out) {
  iovec local{out, size}, remote{reinterpret_cast<void*>(address), size};
  ssize_t n = process_vm_readv(pid_, &local, 1, &remote, 1, 0);
  size_t done = n > 0 ? size_t(n) : 0;
  while (done < size) {
    const uint64_t at = address + done;
    const size_t piece = std::min<size_t>(size - done, kPage - (at % kPage));
    local = {out + done, piece};
    remote = {reinterpret_cast<void*>(at), piece};
    n = process_vm_readv(pid_, &local, 1, &remote, 1, 0);
    if (n <= 0) break;
    done += size_t(n);
  }
  return done;
}

}  // namespace leakscope::collector
