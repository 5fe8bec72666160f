// The drain thread: empties the rings, deduplicates stacks, encodes and
// compresses batches and writes them to the collector (see drain.cc).
#pragma once

#include <cstddef>

#include "byte_buffer.h"
#include "thread_rings.h"

namespace leakscope::preload {

bool StartDrain();
// Producer side: a ring is past half full; wake the drain thread early.
void WakeDrain();
// LEAKSCOPE_LOSSLESS: wait (bounded) until `words` fit; false if they never did.
bool WaitForRingSpace(ThreadRing* ring, size_t words);

// How the process is ending, for the goodbye.
void NoteExitStatus(int status, const char* how);
// Final flush and goodbye, waiting at most a couple of seconds for a stuck
// collector. `status` may be null (unknown). Idempotent.
void FinishProcess(const int* status, const char* how);

// The same from a signal handler that ends the process: the drain lock is
// only ever tried (bounded), never waited for.
void FinishFromSignalHandler(const char* how);

// Before exec replaces the image: everything so far, and a goodbye ("exec").
// If exec fails, recording simply goes on.
void FlushForExec();

// In-process API (api.cc): under the drain mutex, a pass takes every event
// recorded before the call and `query` (a message body) follows them in its
// own frame. On kDone, *reply_fd is a duplicate of the collector socket to
// read the answer from (and close), so the drain is not held up meanwhile.
// Never waits for the mutex more than a couple of seconds.
enum class ExchangeResult { kDone, kNoCollector, kBusy };
ExchangeResult SendQuery(const ByteBuffer& query, int* reply_fd);

// Exit began (exit_began.cc): a pass, then wire.ExitMarker. Once per process.
void DrainExitBegan(const char* how);

void DrainBeforeFork();
void DrainAfterForkParent();
void DrainAfterForkChild();

}  // namespace leakscope::preload
