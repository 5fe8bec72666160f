#include "process_memory.h"

#include <sys/uio.h>

#include <algorithm>
#include <vector>

namespace leakscope::collector {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kMaxIov = 1024;

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

void ProcessMemory::ReadMany(const MemoryRange* ranges, size_t n, uint8_t* out, size_t* got) {
  std::vector<iovec> local, remote;
  size_t i = 0;
  while (i < n) {
    const size_t count = std::min(n - i, kMaxIov);
    local.clear();
    remote.clear();
    uint8_t* p = out;
    for (size_t k = i; k < i + count; ++k) {
      const size_t size = ranges[k].end - ranges[k].start;
      local.push_back({p, size});
      remote.push_back({reinterpret_cast<void*>(ranges[k].start), size});
      p += size;
    }
    ssize_t r = process_vm_readv(pid_, local.data(), count, remote.data(), count, 0);
    size_t left = r > 0 ? size_t(r) : 0;
    // Whole ranges read, then the one it stopped in goes alone.
    size_t k = i;
    for (; k < i + count && left >= local[k - i].iov_len; ++k) {
      got[k] = local[k - i].iov_len;
      left -= local[k - i].iov_len;
      out += got[k];
    }
    if (k < i + count) {
      const size_t size = ranges[k].end - ranges[k].start;
      got[k] = Read(ranges[k].start, size, out);
      out += size;
      ++k;
    }
    i = k;
  }
}

}  // namespace leakscope::collector
