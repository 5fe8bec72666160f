// Folding of transient allocations on the drain thread (every-allocation
// mode). Most allocations of a busy program are freed again within
// milliseconds, inside the batch of events the drain is about to send: for
// those, the allocation and its free are not sent as two events, but summed
// per stack (count, bytes, temporaries). The collector then never looks them
// up in its live table, and the wire never carries their addresses.
//
// What folding must not lose is the peak: live bytes at every instant, and
// per site at the process's highest one. Folded allocations are live between
// their two events, so the batch also carries *adjustments*: per stack, the
// change in folded live bytes since the previous adjustment, placed between
// the sent events where it happened. The collector applies each one and
// checks for a new peak. Adjustments are placed
//   - in every stretch of folded events between two sent events, at the
//     point where the folded live bytes are highest (the live bytes of sent
//     allocations are constant there, so that is the stretch's highest point);
//   - before every sent allocation, so its own peak check sees the folded
//     bytes live at that moment;
//   - at the end, which brings folded live bytes back to zero.
// Every adjustment describes a real instant of the unfolded stream, and every
// instant that could be a new peak is described by one, so the peak, its per
// site breakdown, and every other figure the collector derives are exactly
// what the unfolded stream gives (tests/collector/transient_folding_test.cc
// checks that on random streams). An adjustment between two sent events also
// tells the collector they were not adjacent (its "temporary" test).
//
// An allocation is folded only when its free comes later in the same batch
// and nothing else happened at its address in between: an allocation at an
// address that already holds one (its free was lost) stays an event, and so
// does the next free there, so the collector sees the replacement. A free
// can also have been lost before the batch (a full ring, a signal handler's
// free while its thread was inside the shim): once the process has lost any
// event (Mode::kFoldAfterLoss), a folded allocation that is its batch's
// first event at its address gets an adjustment of its own, naming the
// address, and the collector replaces what it still holds there. Until then
// the collector cannot hold a stale block, and the names are not sent (they
// would cost more than folding saves on a program with many addresses); a
// batch in which most folded pairs would need a name is sent unfolded.
//
// Single-threaded (drain thread). Memory is taken once, by Prepare().
#pragma once

#include <cstddef>
#include <cstdint>

#include "wire_writer.h"

namespace leakscope::preload {

class TransientFolder {
 public:
  static constexpr size_t kBatchEvents = 16 * 1024;
  static constexpr size_t kMaxSites = 4096;  // distinct stacks folded per batch

  TransientFolder() = default;
  ~TransientFolder();
  TransientFolder(const TransientFolder&) = delete;
  TransientFolder& operator=(const TransientFolder&) = delete;

  // Takes the batch's memory; with `fold`, also the folding tables (about
  // 1.3 MiB, zeroed). Without, FlushInto only takes Mode::kSendAll. False if
  // memory ran out.
  bool Prepare(bool fold = true);
  bool prepared() const { return events_ != nullptr; }

  // Appends one event of the batch, in stream order; the batch must not be
  // full (see full()).
  void AddAlloc(uint64_t address, uint64_t size, uint32_t stack_id) {
    events_[n_++] = Event{address, size, stack_id, kAlloc};
  }
  void AddFree(uint64_t address) { events_[n_++] = Event{address, 0, 0, 0}; }
  bool full() const { return n_ == kBatchEvents; }
  // Drops the batch (a forked child: those events are its parent's).
  void Clear() { NextGeneration(); }
  size_t size() const { return n_; }

  enum class Mode {
    kSendAll,        // every event as it came (sampled, lossy rings, LEAKSCOPE_FOLD=0)
    kFold,           // fold: no event of the process was ever lost
    kFoldAfterLoss,  // fold, naming addresses for the collector to replace (above)
  };

  // Writes the batch into `out` and empties it. False if memory ran out: the
  // batch is then lost.
  bool FlushInto(EventColumns* out, Mode mode);

 private:
  enum Tag : uint32_t {
    kAlloc = 1,
    kFolded = 2,           // one of a folded pair; `stack` then holds its site slot
    kTemporary = 4,        // folded allocation freed by the very next event
    kAdjustAfter = 8,      // place an adjustment right after this (folded) event
    kFirstAtAddress = 16,  // a folded allocation, the batch's first event at its address
  };
  struct Event {
    uint64_t address;
    uint64_t size;  // a folded free: its allocation's size
    uint32_t stack;
    uint32_t tag;
  };
  struct PairSlot {  // address -> its unfreed allocation in this batch
    uint64_t address;
    uint32_t index;  // kNoAlloc, kConflict, or the allocation's event index
    uint32_t generation;
    uint32_t first;  // the batch's first event at this address
  };
  struct SiteSlot {  // stack -> what its folded allocations did in this batch
    uint32_t stack;
    uint32_t generation;
    int64_t pending;  // live bytes changed since the last adjustment
    uint64_t count, bytes, temporary;
    bool dirty;  // in dirty_
  };
  static constexpr uint32_t kNoAlloc = ~0u, kConflict = ~0u - 1, kNoSite = ~0u;
  static constexpr size_t kPairSlots = 2 * kBatchEvents;  // load <= 1/2
  static constexpr size_t kSiteSlots = 2 * kMaxSites;

  bool Pair(bool name_addresses);  // false: not worth it, nothing folded
  void Unfold();
  uint32_t SiteFor(uint32_t stack);
  void PlaceAdjustments();
  bool Write(EventColumns* out);
  void Adjust(EventColumns* out, bool even_if_empty, uint64_t address = 0);
  void NextGeneration();

  Event* events_ = nullptr;
  size_t n_ = 0;
  PairSlot* pairs_ = nullptr;
  SiteSlot* sites_ = nullptr;
  uint32_t* used_ = nullptr;   // site slots claimed in this batch
  uint32_t* dirty_ = nullptr;  // site slots with a pending change
  size_t nused_ = 0, ndirty_ = 0;
  size_t pending_sent_ = 0;  // events Write() has sent so far
  uint32_t generation_ = 1;  // slots of other generations are empty
};

}  // namespace leakscope::preload
