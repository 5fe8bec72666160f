#include "integrity.h"

#include "human_units.h"
#include "report_facts.h"

namespace leakscope::viewer {

Integrity IntegrityOf(const report::Report& report) {
  Integrity i;
  i.dropped_events = report.dropped_events();
  i.reentrant_events = report.reentrant_events();
  i.unmatched_frees = report.totals().unmatched_frees();
  i.possibly_missing_ms = report.totals().possibly_missing_ms();
  i.sampling_interval = SamplingInterval(report);
  return i;
}

std::string IntegrityLosses(const Integrity& i) {
  std::string out;
  const auto add = [&out](const std::string& phrase) { out += (out.empty() ? "" : ", ") + phrase; };
  if (i.dropped_events)
    add(CountOf(i.dropped_events, "event", "events") +
        " dropped (ring full or collector unreachable)");
  if (i.reentrant_events)
    add(CountOf(i.reentrant_events, "event", "events") + " lost in signal handlers");
  // Allocated before tracing began, or their allocation was among the lost.
  if (i.unmatched_frees)
    add(CountOf(i.unmatched_frees, "free", "frees") + " of blocks never seen allocated");
  if (i.possibly_missing_ms)
    add("the last " + WithThousands(i.possibly_missing_ms) +
        " ms of events before the process was killed may be missing");
  return out;
}

std::string SamplingCaveat(const Integrity& i) {
  if (!i.Sampled()) return "";
  return "sampled (one per " + HumanBytes(i.sampling_interval) +
         "): figures are estimates, small leaks may be missed";
}

std::string IntegritySummary(const Integrity& i) {
  if (!i.NothingLost())
    return "INCOMPLETE: " + IntegrityLosses(i) + (i.Sampled() ? "; " + SamplingCaveat(i) : "");
  if (i.Sampled()) return "nothing lost, but " + SamplingCaveat(i);
  return "complete: every allocation and free recorded";
}

IntegrityVerdict EvaluateIntegrity(const Integrity& i, bool require_complete) {
  IntegrityVerdict v;
  const std::string how = require_complete ? "FAIL (--require-complete): " : "warning: ";
  if (!i.NothingLost()) v.lines.push_back(how + "figures incomplete: " + IntegrityLosses(i));
  if (i.Sampled()) v.lines.push_back(how + SamplingCaveat(i));
  v.pass = !require_complete || v.lines.empty();
  return v;
}

}  // namespace leakscope::viewer
