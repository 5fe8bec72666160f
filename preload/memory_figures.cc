// The allocator's side of the memory figures (memory_figures.h) and the
// reading of /proc/self/smaps. Drain thread only.
#include "memory_figures.h"

#include <malloc.h>
#include <unistd.h>

#include "real_allocator.h"

namespace leakscope::preload {

void ReadAllocatorFigures(bool mimalloc, MemoryFigures* out) {
  if (mimalloc) {
    // The shim's own blocks come from the same mimalloc: its commit
    // includes them (a few MiB at most).
    if (!MimallocLoaded() || !Mi().process_info) return;
    size_t unused, rss, peak_rss, commit, peak_commit;
    Mi().process_info(&unused, &unused, &unused, &rss, &peak_rss, &commit, &peak_commit, &unused);
    out->allocator = 2;
    out->allocator_mapped = commit;
    return;
  }
  // Each arena's lock, briefly, in turn. glibc's only: a program that links
  // another malloc answers for glibc's (nearly unused) arenas.
  const struct mallinfo2 mi = mallinfo2();
  out->allocator = 1;
  out->allocator_in_use = mi.uordblks + mi.hblkhd;
  out->allocator_free = mi.fordblks;
  out->allocator_mapped = mi.arena + mi.hblkhd;
  out->allocator_releasable = mi.keepcost;
}

bool ReadSmapsFigures(int fd, MemoryFigures* out) {
  SmapsTally tally(out);
  char buf[16 * 1024];
  off_t at = 0;
  for (ssize_t n; (n = pread(fd, buf, sizeof buf, at)) != 0; at += n) {
    if (n < 0) return false;
    tally.Feed(buf, size_t(n));
  }
  tally.Finish();
  out->maps_read = true;
  return true;
}

}  // namespace leakscope::preload
