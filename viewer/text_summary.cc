// The first thing the reader sees: what ran, how it ended, and how much
// memory it held, and whether the figures are whole (loud when they are not).
#include <cstdio>
#include <vector>

#include "human_units.h"
#include "integrity.h"
#include "report_facts.h"
#include "text_report.h"

namespace leakscope::viewer {
namespace {

std::string Line(const TextStyle& style, const char* label, const std::string& value) {
  std::string padded = label;
  padded.resize(13, ' ');
  return style.Bold(padded) + value + "\n";
}

std::string BytesFigure(uint64_t bytes) {
  return HumanBytes(bytes) + " (" + CountOf(bytes, "byte", "bytes") + ")";
}

// Allocations the shim sent as per-site sums (freed within its batch).
std::string FoldedShare(const report::Totals& t) {
  char share[32];
  snprintf(share, sizeof share, "%.1f%%",
           100.0 * double(t.folded_allocations()) / double(t.allocations()));
  return std::string(share) + " of allocations (freed soon after: sent as per-site sums)";
}

std::string HowItEnded(const report::Process& p) {
  switch (p.end()) {
    case report::Process::EXITED:
      return "exited with status " + std::to_string(p.exit_status());
    case report::Process::SIGNALED:
      return "killed by " + SignalName(p.signal()) + " (signal " + std::to_string(p.signal()) + ")";
    case report::Process::DISCONNECTED:
      return "disconnected without saying goodbye (crashed or killed; exit status unknown)";
    case report::Process::ENDED:
      return "ended" + (p.how().empty() ? "" : " by " + Printable(p.how())) +
             ", exit status unknown";
    case report::Process::RUNNING:
      return "still running (this is a snapshot)";
    default:
      return "unknown";
  }
}

std::string CommandLine(const report::Process& p) {
  if (p.argv().empty()) return Printable(p.exe());
  return DisplayCommandLine(std::vector<std::string>(p.argv().begin(), p.argv().end()));
}

std::string Identity(const report::Process& p) {
  std::string out = "pid " + std::to_string(p.pid()) + ", parent " + std::to_string(p.ppid());
  // A report from before inheritance existed says nothing of it.
  if (p.forked() && p.inheritance() == report::Process::NOT_FORKED)
    out += ", forked from a traced parent (inherited memory not counted)";
  else if (p.forked())
    out += ", forked from traced parent pid " + std::to_string(p.parent_pid());
  return out;
}

// A forked child: what it inherited from the parent at fork (attributed to
// it from then on), or why it could not be known.
std::string Inherited(const report::Process& p, const report::Totals& t) {
  if (p.inheritance() == report::Process::INHERITED)
    return HumanBytes(t.inherited_bytes()) + " in " +
           CountOf(t.inherited_allocations(), "allocation", "allocations") + " from parent pid " +
           std::to_string(p.parent_pid()) + " at fork; " +
           WithThousands(t.inherited_live_allocations()) + " still live (" +
           HumanBytes(t.inherited_live_bytes()) + ")";
  return "unavailable: the parent's live allocations at fork are not known, so frees of "
         "them count as unmatched";
}

std::string Sampling(uint64_t interval) {
  if (interval <= 1) return "every allocation recorded";
  return "one sample per " + BytesFigure(interval) +
         " allocated on average: per-site figures are estimates";
}

// Loud when something was lost: the figures below are then off by what was
// not seen (sampling is a choice, not a loss).
std::string IntegrityValue(const report::Report& report, const TextStyle& style) {
  const Integrity integrity = IntegrityOf(report);
  const std::string text = IntegritySummary(integrity);
  return integrity.NothingLost() ? text : style.Warn(text);
}

}  // namespace

std::string RenderProcessSummary(const report::Report& report, const TextStyle& style) {
  const report::Process& p = report.process();
  const report::Totals& t = report.totals();
  const bool running = p.end() == report::Process::RUNNING;
  std::string out;
  out += Line(style, "Command", CommandLine(p));
  out += Line(style, "Process", Identity(p));
  out += Line(style, "Ended", HowItEnded(p));
  if (!p.cut_short().empty())
    out += Line(style, "Cut short", "by the collector: " + Printable(p.cut_short()));
  out += Line(style, "Peak live", BytesFigure(t.peak_live_bytes()));
  out += Line(style, running ? "Live now" : "Live at end",
              style.Size(BytesFigure(t.live_bytes())) + " in " +
                  CountOf(t.live_allocations(), "allocation", "allocations"));
  out += Line(style, "Allocations",
              WithThousands(t.allocations()) + " (" + HumanBytes(t.allocated_bytes()) + "), " +
                  CountOf(t.frees(), "free", "frees"));
  if (t.folded_allocations() && t.allocations()) out += Line(style, "Folded", FoldedShare(t));
  if (p.inheritance() != report::Process::NOT_FORKED)
    out += Line(style, "Inherited", Inherited(p, t));
  out += Line(style, "Sampling", Sampling(SamplingInterval(report)));
  out += Line(style, "Integrity", IntegrityValue(report, style));
  return out;
}

}  // namespace leakscope::viewer
