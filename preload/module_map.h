// The traced process's loaded ELF objects, for the collector to symbolize
// against. Read with dl_iterate_phdr when the loader's object set changed
// (its counts of loads and unloads, or a generation counter the shim's
// dlclose bumps); dlclose refreshes the map *before* the object goes, so a
// library loaded and unloaded between two drains is still known. Each refresh
// appends the whole current map, encoded as wire Message.modules fields, to a
// pending buffer the drain sends.
//
// dl_iterate_phdr waits for the loader's lock, which a program thread may hold
// for good (frozen inside its own callback) and which a signal handler may
// have interrupted on its own thread: it is called only by the drain thread,
// outside the drain lock, by the constructor before that thread exists, and by
// dlclose(). Exit paths ask the drain thread for a refresh (drain.cc) and take
// what is pending.
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>

#include "byte_buffer.h"

namespace leakscope::preload {

class ModuleMap {
 public:
  // Called by the dlclose wrapper: the set is about to change.
  void NoteChange() { generation_.fetch_add(1, std::memory_order_relaxed); }

  // Re-reads the map if it changed since the last refresh (or if `force`,
  // or after a fork), unless another thread is refreshing it right now (then
  // false: the next refresh does it).
  bool TryRefresh(bool force);
  // The same, waiting for a refresh in progress: dlclose(), before the
  // library goes.
  void RefreshBeforeUnload();

  // Moves the pending encoded modules to the end of `out` (Message fields),
  // trying the lock for at most `wait_ms` (a refresh holds them; they go with
  // the next message). Returns true if there were any.
  bool TakePending(ByteBuffer* out, int wait_ms = 0);

  // The main program's path, read while its main thread is alive (once the
  // main thread has left with pthread_exit, /proc/self/exe can't be read).
  void SetMainProgram(const char* path);

  // A new stream, or a message lost: the next message carries the whole map
  // as last read, without reading it again (no dl_iterate_phdr under the
  // drain lock). Pending maps are kept: one may hold a library that was
  // dlclose'd before the first connection, and duplicates cost the collector
  // nothing.
  void Resend() { resend_.store(true, std::memory_order_release); }
  // fork()'s prepare handler: waits (at most `seconds`) until no refresh is
  // under way, and keeps others out until the fork is done. A refresh holds
  // the loader's lock inside dl_iterate_phdr: forked then, the child would
  // inherit it held by a thread it does not have, and hang at its first
  // unwind or refresh (seen with python3 multiprocessing). False: not held.
  bool LockForFork(int seconds);
  void UnlockAfterForkParent() { pthread_mutex_unlock(&mu_); }
  // In a forked child: the lock may have been held by a thread that is gone,
  // and the buffers half written by it.
  void AfterForkChild();

 private:
  void RefreshLocked(bool force);

  pthread_mutex_t mu_ = PTHREAD_MUTEX_INITIALIZER;
  std::atomic<uint64_t> generation_{1};
  std::atomic<bool> reset_{false};   // the next refresh reads the map whatever the counts
  std::atomic<bool> resend_{false};  // the next TakePending puts last_ first
  uint64_t seen_generation_ = 0;
  unsigned long long seen_adds_ = 0, seen_subs_ = 0;  // the loader's counts
  ByteBuffer last_;                                   // the whole map as the last refresh read it
  ByteBuffer pending_;                                // maps not yet sent
};

// Constructed by the shim's initialization (the first call), never destroyed.
ModuleMap& Modules();

}  // namespace leakscope::preload
