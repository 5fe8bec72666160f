// The program's anonymous mappings: mmap, mmap64, munmap and mremap are
// interposed like the malloc family, and recorded in every mode (mappings
// are rare and big: sampling them would save nothing). Recorded: anonymous
// mappings (MAP_ANONYMOUS, private or shared), every munmap (the shim keeps
// no map of its own; the collector ignores ranges it never saw), mremap, and
// a file mapping laid with MAP_FIXED (it replaces whatever was there: sent as
// an unmap of its range). Not seen: the C library's own mappings (glibc's
// malloc maps big blocks, and pthread its stacks, with internal calls that
// never pass through the symbol table), and raw syscalls.
//
// As for malloc: an unmap is recorded before the call, a map after it, and an
// mremap on both sides, so another thread that gets a freed range at once is
// never seen to have it before it was freed. Calls from inside the shim (its
// own code: ShimMmap; its libraries while the thread records or does the
// shim's work) pass through unrecorded. No lock, no allocation: a signal
// handler may call these.
#include "mappings.h"

#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cstdint>

#include "hooks.h"
#include "raw_syscall.h"
#include "shim.h"

namespace leakscope::preload {
namespace {

inline bool FromShim(void* return_address) {
  return IsShimCode(reinterpret_cast<uint64_t>(return_address));
}

inline size_t WholePages(size_t length, size_t page) {
  return (length + page - 1) & ~(page - 1);
}

long SetErrno(long ret) {
  if (ret < 0 && ret > -4096) {
    errno = static_cast<int>(-ret);
    return -1;
  }
  return ret;
}

}  // namespace

void* ShimMmap(void* address, size_t length, int prot, int flags, int fd, off_t offset) {
  const long ret = RawSyscall6(SYS_mmap, reinterpret_cast<long>(address), static_cast<long>(length),
                               prot, flags, fd, offset);
  return SetErrno(ret) == -1 ? MAP_FAILED : reinterpret_cast<void*>(ret);
}

int ShimMunmap(void* address, size_t length) {
  return static_cast<int>(SetErrno(
      RawSyscall3(SYS_munmap, reinterpret_cast<long>(address), static_cast<long>(length), 0)));
}

}  // namespace leakscope::preload

using namespace leakscope::preload;

extern "C" {

__attribute__((visibility("default"))) void* mmap(void* address, size_t length, int prot, int flags,
                                                  int fd, off_t offset) {
  if (__builtin_expect(FromShim(__builtin_return_address(0)), 0))
    return ShimMmap(address, length, prot, flags, fd, offset);
  const Hooks& h = Real();
  void* p = h.mmap(address, length, prot, flags, fd, offset);
  if (p == MAP_FAILED) return p;
  const size_t pages = WholePages(length, h.page_size);
  if (flags & MAP_ANONYMOUS)
    RecordMap(p, pages);
  else if (flags & MAP_FIXED)  // a file mapping over what was there
    RecordUnmap(p, pages);
  return p;
}

__attribute__((visibility("default"), alias("mmap"))) void* mmap64(void*, size_t, int, int, int,
                                                                   off_t);

__attribute__((visibility("default"))) int munmap(void* address, size_t length) {
  if (__builtin_expect(FromShim(__builtin_return_address(0)), 0))
    return ShimMunmap(address, length);
  const Hooks& h = Real();
  // What the kernel would refuse (EINVAL) unmaps nothing: not recorded.
  if (length != 0 && (reinterpret_cast<uintptr_t>(address) & (h.page_size - 1)) == 0)
    RecordUnmap(address, WholePages(length, h.page_size));
  return h.munmap(address, length);
}

__attribute__((visibility("default"))) void* mremap(void* old_address, size_t old_length,
                                                    size_t new_length, int flags, ...) {
  void* new_address = nullptr;
  if (flags & MREMAP_FIXED) {
    va_list ap;
    va_start(ap, flags);
    new_address = va_arg(ap, void*);
    va_end(ap);
  }
  const Hooks& h = Real();
  if (__builtin_expect(FromShim(__builtin_return_address(0)), 0))
    return h.mremap(old_address, old_length, new_length, flags, new_address);
  const size_t old_pages = WholePages(old_length, h.page_size);
  const size_t new_pages = WholePages(new_length, h.page_size);
#ifdef MREMAP_DONTUNMAP
  const bool keep_old = (flags & MREMAP_DONTUNMAP) || old_length == 0;
#else
  const bool keep_old = old_length == 0;
#endif
  RecordRemapBegin(old_address, old_pages, keep_old);
  void* p = h.mremap(old_address, old_length, new_length, flags, new_address);
  if (p == MAP_FAILED) {
    const int saved = errno;
    RecordRemapEnd(old_address, old_address, keep_old ? 0 : old_pages);
    errno = saved;
  } else {
    RecordRemapEnd(old_address, p, new_pages);
  }
  return p;
}

}  // extern "C"
