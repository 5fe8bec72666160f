// After fork(), the loader's lock (taken by dl_iterate_phdr) may be held by a
// thread the child does not have: another program thread was inside
// dl_iterate_phdr or dlopen at the fork. glibc does not reset that lock in the
// child, so the child's first dl_iterate_phdr waits for good. Bare, a child
// rarely calls it (C++ unwinding finds tables with _dl_find_object, which
// takes no lock); the shim would, in libunwind's fast trace and in its module
// map refresh. So in a child both stay away from the loader until a probe
// thread's dl_iterate_phdr has returned: then the lock is known free, and any
// later holder is a live thread that lets go.
#pragma once

#include <atomic>

namespace leakscope::preload {

// True from a fork's prepare handler until the child's probe returned (and
// in the parent until its fork returned). Read on stack misses (relaxed: a
// stale true costs one slower walk).
inline std::atomic<bool> g_loader_suspect{false};

inline bool LoaderMayBeHeld() {
  return g_loader_suspect.load(std::memory_order_relaxed);
}

// fork()'s prepare handler: set before the child exists, because the
// program's own child handlers run before the shim's and may allocate.
inline void SuspectLoaderAtFork() {
  g_loader_suspect.store(true, std::memory_order_relaxed);
}

// The fork child's handler: the parent's probe, if any, is not in this
// process; this child needs its own.
void ForgetLoaderProbeAfterFork();

// Starts the child's probe thread, once (the drain thread calls it while it
// skips its refreshes; a no-op in a process that did not come from a fork).
// The probe may never return: it is detached, named as the shim's drain
// thread, and counted by ProbeThreadAlive.
void StartLoaderProbe();

// Whether the probe thread exists (the drain's "only this thread left"
// check does not count it).
bool ProbeThreadAlive();

}  // namespace leakscope::preload
