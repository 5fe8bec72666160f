#include "transient_folder.h"

#include <cstring>

#include "shim_memory.h"

namespace leakscope::preload {
namespace {

// Addresses share their low bits (16-byte alignment): mix all of them.
inline size_t Mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  return static_cast<size_t>(x);
}

template <class T>
T* Take(size_t n) {
  void* p = ShimAlloc(n * sizeof(T));
  if (p) std::memset(p, 0, n * sizeof(T));  // generation 0: every slot empty
  return static_cast<T*>(p);
}

}  // namespace

TransientFolder::~TransientFolder() {
  ShimFree(events_);
  ShimFree(pairs_);
  ShimFree(sites_);
  ShimFree(used_);
  ShimFree(dirty_);
}

bool TransientFolder::Prepare(bool fold) {
  if (prepared()) return true;
  // Not folding (sampled, lossy): the tables would cost every process start
  // zeroing them (about 1.3 MiB: a page fault per 4 KiB), never to be read.
  // The events need no zeroing: only what AddAlloc/AddFree wrote is read.
  Event* events = static_cast<Event*>(ShimAlloc(kBatchEvents * sizeof(Event)));
  if (!fold) {
    events_ = events;
    return events != nullptr;
  }
  pairs_ = Take<PairSlot>(kPairSlots);
  sites_ = Take<SiteSlot>(kSiteSlots);
  used_ = Take<uint32_t>(kMaxSites);
  dirty_ = Take<uint32_t>(kMaxSites);
  if (pairs_ && sites_ && used_ && dirty_ && events) {
    events_ = events;
    return true;
  }
  ShimFree(events);
  return false;
}

void TransientFolder::NextGeneration() {
  n_ = nused_ = ndirty_ = 0;
  if (++generation_ != 0 || !pairs_) return;
  // Wrapped after 2^32 batches: slots of generation 1 would look current.
  std::memset(pairs_, 0, kPairSlots * sizeof(PairSlot));
  std::memset(sites_, 0, kSiteSlots * sizeof(SiteSlot));
  generation_ = 1;
}

bool TransientFolder::FlushInto(EventColumns* out, Mode mode) {
  if (n_ == 0) return true;
  if (mode != Mode::kSendAll && pairs_ && Pair(mode == Mode::kFoldAfterLoss)) PlaceAdjustments();
  const bool ok = Write(out);
  NextGeneration();
  return ok;
}

// The site slot of `stack` in this batch; kNoSite when kMaxSites are taken.
uint32_t TransientFolder::SiteFor(uint32_t stack) {
  for (size_t i = Mix(stack) & (kSiteSlots - 1);; i = (i + 1) & (kSiteSlots - 1)) {
    SiteSlot& s = sites_[i];
    if (s.generation == generation_) {
      if (s.stack == stack) return static_cast<uint32_t>(i);
      continue;
    }
    if (nused_ == kMaxSites) return kNoSite;
    s = SiteSlot{stack, generation_, 0, 0, 0, 0, false};
    used_[nused_++] = static_cast<uint32_t>(i);
    return static_cast<uint32_t>(i);
  }
}

// Finds each free's allocation in the batch, if it has one, and marks both
// folded. Linear probing; a slot whose allocation was freed keeps its
// address (kNoAlloc), so the next allocation there reuses it.
bool TransientFolder::Pair(bool name_addresses) {
  // A program frees what it allocated from one site many times in a row.
  uint32_t last_stack = 0, last_site = kNoSite;
  size_t folded = 0, named = 0;
  for (size_t j = 0; j < n_; ++j) {
    Event& e = events_[j];
    size_t i = Mix(e.address) & (kPairSlots - 1);
    while (pairs_[i].generation == generation_ && pairs_[i].address != e.address)
      i = (i + 1) & (kPairSlots - 1);
    PairSlot& p = pairs_[i];
    const bool seen = p.generation == generation_;
    if (e.tag & kAlloc) {
      if (!seen)
        p = PairSlot{e.address, static_cast<uint32_t>(j), generation_, static_cast<uint32_t>(j)};
      else  // an allocation already there was not freed: both stay events
        p.index = p.index == kNoAlloc ? static_cast<uint32_t>(j) : kConflict;
      continue;
    }
    if (!seen) continue;  // allocated before this batch
    const uint32_t a = p.index;
    p.index = kNoAlloc;
    if (a == kNoAlloc || a == kConflict) continue;
    Event& alloc = events_[a];
    if (alloc.stack != last_stack || last_site == kNoSite)
      last_site = SiteFor(last_stack = alloc.stack);
    const uint32_t site = last_site;
    if (site == kNoSite) continue;
    const bool name = name_addresses && a == p.first;
    alloc.tag |= kFolded | (a + 1 == j ? uint32_t{kTemporary} : 0u) |
                 (name ? uint32_t{kFirstAtAddress} : 0u);
    alloc.stack = site;
    e = Event{e.address, alloc.size, site, kFolded};
    ++folded;
    named += name;
  }
  // An adjustment naming an address costs about what the pair's two events
  // would: when most pairs need one, the batch goes out as it came.
  if (named * 2 <= folded) return true;
  Unfold();
  return false;
}

void TransientFolder::Unfold() {
  for (size_t j = 0; j < n_; ++j) {
    Event& e = events_[j];
    if (!(e.tag & kFolded)) continue;
    if (e.tag & kAlloc) {
      e.stack = sites_[e.stack].stack;
      e.tag = kAlloc;
    } else {
      e.tag = 0;
    }
  }
}

// Marks, in each stretch of folded events between two sent events, the event
// after which folded live bytes are highest (the first such, as the
// collector's peak is the first instant at a new high). A stretch of frees
// only is marked at its first event: its adjustment tells the collector that
// the sent events around it were not adjacent.
void TransientFolder::PlaceAdjustments() {
  int64_t live = 0, highest = 0;
  Event* mark = nullptr;
  for (size_t j = 0; j < n_; ++j) {
    Event& e = events_[j];
    if (!(e.tag & kFolded)) {
      if (mark) mark->tag |= kAdjustAfter;
      mark = nullptr;
      continue;
    }
    if (e.tag & kAlloc) {
      live += static_cast<int64_t>(e.size);
      if (!mark || live > highest) highest = live, mark = &e;
    } else {
      live -= static_cast<int64_t>(e.size);
      if (!mark) highest = live, mark = &e;
    }
  }
  if (mark) mark->tag |= kAdjustAfter;
}

// One adjustment: every site's change since the last one.
void TransientFolder::Adjust(EventColumns* out, bool even_if_empty, uint64_t address) {
  uint32_t entries = 0;
  for (size_t k = 0; k < ndirty_; ++k) entries += sites_[dirty_[k]].pending != 0;
  if (entries == 0 && !even_if_empty && !address) {
    for (size_t k = 0; k < ndirty_; ++k) sites_[dirty_[k]].dirty = false;
    ndirty_ = 0;
    return;
  }
  out->AddAdjustment(out->sent() + pending_sent_, entries, address);
  for (size_t k = 0; k < ndirty_; ++k) {
    SiteSlot& s = sites_[dirty_[k]];
    if (s.pending != 0) out->AddAdjustmentEntry(s.stack, s.pending);
    s.pending = 0;
    s.dirty = false;
  }
  ndirty_ = 0;
}

bool TransientFolder::Write(EventColumns* out) {
  EventColumns::Writer w(out);
  if (!w.Reserve(n_)) return false;
  pending_sent_ = 0;
  for (size_t j = 0; j < n_; ++j) {
    const Event& e = events_[j];
    if (e.tag & kFolded) {
      SiteSlot& s = sites_[e.stack];
      if (e.tag & kFirstAtAddress) Adjust(out, true, e.address);  // the instant before it
      if (e.tag & kAlloc) {
        s.pending += static_cast<int64_t>(e.size);
        s.count += 1;
        s.bytes += e.size;
        s.temporary += (e.tag & kTemporary) != 0;
      } else {
        s.pending -= static_cast<int64_t>(e.size);
      }
      if (!s.dirty) s.dirty = true, dirty_[ndirty_++] = e.stack;
      if (e.tag & kAdjustAfter) Adjust(out, true);
    } else if (e.tag & kAlloc) {
      if (ndirty_) Adjust(out, false);
      w.AddAlloc(e.address, e.size, e.stack);
      ++pending_sent_;
    } else {
      w.AddFree(e.address);
      ++pending_sent_;
    }
  }
  if (ndirty_) Adjust(out, false);
  w.Flush();
  for (size_t k = 0; k < nused_; ++k) {
    const SiteSlot& s = sites_[used_[k]];
    if (s.count) out->AddTransient(s.stack, s.count, s.bytes, s.temporary);
  }
  return true;
}

}  // namespace leakscope::preload
