// The registry of per-thread rings.
//
// A ring is mmap'd once and never unmapped. When its thread exits the ring is
// marked exited; the drain thread empties it and marks it free; the next new
// thread takes it. So thousands of short-lived threads cost as many rings as
// were ever alive at once, and no event of an exiting thread is lost.
// The list only grows at its head (CAS), and nodes are never removed, so the
// drain thread can walk it without a lock while threads register.
#pragma once

#include <atomic>
#include <cstdint>

#include "ring_buffer.h"
#include "stack_cache.h"

namespace leakscope::preload {

struct ThreadRing {
  enum State : uint32_t { kFree = 0, kOwned = 1, kExited = 2 };
  RingBuffer ring;
  std::atomic<uint32_t> state{kOwned};
  // The owner's kernel thread id when the shim will not see the owner end
  // (see ShimThreads in thread_start.cc); 0 otherwise.
  std::atomic<int> watch_tid{0};
  ThreadRing* next = nullptr;  // immutable once published
  size_t mapping_size = 0;
  // Owner thread only: the timestamp of the last record it put in the ring
  // (a packed record's delta is from it: event_record.h). Kept when the ring
  // changes owner, as drain_last_time is.
  uint64_t last_time = 0;
  StackCache stacks;  // owner thread only; cleared when the ring changes owner
  // Drain thread only: its copy of each stack cache entry, from the record
  // that stored it, for the records that then only refer to it.
  struct MirrorEntry {
    uint32_t ref = 0;  // StackCache reference of the frames below; 0 = none
    uint32_t frames = 0;
    uint32_t id = 0;        // their StackTable id...
    uint32_t id_epoch = 0;  // ...while StackTable::epoch() is this
    uint64_t pcs[kMaxFrames];
  };
  MirrorEntry mirror[StackCache::kEntries];
  // Drain thread only: the timestamp of the last record it took from the
  // ring, which the next record's delta is from.
  uint64_t drain_last_time = 0;
};

// A ring for the calling thread (reused or new). Null if mmap failed.
ThreadRing* AcquireThreadRing(uint32_t words);
// The owning thread is gone; the drain thread recycles the ring once empty.
void ReleaseThreadRing(ThreadRing* ring);
// Drain thread: an exited ring it has emptied becomes reusable.
void RecycleIfDrained(ThreadRing* ring);
// Drain thread: releases the rings whose watched owner thread (watch_tid)
// no longer exists in process `pid`.
void ReleaseRingsOfGoneThreads(int pid);
// Head of the registry (newest first).
ThreadRing* FirstThreadRing();
// Rings ever created (each costs its mapping).
uint64_t ThreadRingCount();

}  // namespace leakscope::preload
