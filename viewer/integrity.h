// Whether a report's figures are whole, the same in every view (text, JSON,
// HTML) and in `check`: events the shim dropped (ring full, collector
// unreachable), events lost in signal handlers, frees of blocks the report
// never saw allocated, and the last moments of a killed process. Sampling
// loses nothing but makes every figure an estimate, so it is told apart.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "report.pb.h"

namespace leakscope::viewer {

struct Integrity {
  uint64_t dropped_events = 0;
  uint64_t reentrant_events = 0;
  uint64_t unmatched_frees = 0;
  uint64_t possibly_missing_ms = 0;
  uint64_t sampling_interval = 1;  // 1 = every allocation

  bool NothingLost() const {
    return dropped_events == 0 && reentrant_events == 0 && unmatched_frees == 0 &&
           possibly_missing_ms == 0;
  }
  bool Sampled() const { return sampling_interval > 1; }
  // Exact figures: what `check --require-complete` asks for.
  bool Complete() const { return NothingLost() && !Sampled(); }
};

Integrity IntegrityOf(const report::Report& report);

// What is missing and by how much, one phrase per cause, ", " between them:
// "5 events dropped (ring full or collector unreachable), 3 frees of blocks
// never seen allocated". "" when nothing is.
std::string IntegrityLosses(const Integrity& integrity);

// What sampling means for the figures; "" when every allocation is recorded.
std::string SamplingCaveat(const Integrity& integrity);

// One glance: "complete: ...", "nothing lost, but sampled ..." or
// "INCOMPLETE: <losses>" (then the sampling caveat, if sampled).
std::string IntegritySummary(const Integrity& integrity);

// `check`'s word on integrity: a warning line for what was lost and one if
// sampled; with require_complete they are failures instead. "" and a pass
// when the figures are complete.
struct IntegrityVerdict {
  bool pass = true;
  std::vector<std::string> lines;
};
IntegrityVerdict EvaluateIntegrity(const Integrity& integrity, bool require_complete);

}  // namespace leakscope::viewer
