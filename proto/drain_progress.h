// The shim's drain progress, a few words in the traced process's memory that
// the collector reads with process_vm_readv (wire.Hello.drain_progress_address)
// to make its live table exact before a reachability scan: with every thread
// but the drain thread stopped, a pass that began after the stop takes every
// event recorded before it, so once `passes_done` reaches the `passes_begun`
// read after the stop plus one, the stream holds every event (see
// docs/ARCHITECTURE.md, "Reachability"). Shared by both sides; no dependencies.
#pragma once

#include <cstdint>

namespace leakscope::wire {

inline constexpr uint64_t kDrainProgressMagic = 0x314e494152445346ull;  // "FSDRAIN1"

// The layout, 8-byte words. Written only by the shim (passes under its drain
// lock); the collector treats every word as hostile input.
struct DrainProgressWords {
  uint64_t magic;         // kDrainProgressMagic
  uint64_t drain_tid;     // the drain thread, as gettid() says it in the process
  uint64_t passes_begun;  // incremented before a pass reads its watermark
  uint64_t passes_done;   // the number of the last pass whose events are sent
};

}  // namespace leakscope::wire
