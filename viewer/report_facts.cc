#include "report_facts.h"

#include <string.h>

#include <algorithm>

namespace leakscope::viewer {

std::vector<int> SitesByLiveBytes(const report::Report& report, size_t top) {
  std::vector<int> order(static_cast<size_t>(report.sites_size()));
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return report.sites(a).live_bytes() > report.sites(b).live_bytes();
  });
  if (top != 0 && order.size() > top) order.resize(top);
  return order;
}

const char* EndWord(report::Process::End end) {
  switch (end) {
    case report::Process::EXITED:
      return "exited";
    case report::Process::SIGNALED:
      return "signaled";
    case report::Process::DISCONNECTED:
      return "disconnected";
    case report::Process::ENDED:
      return "ended";
    case report::Process::RUNNING:
      return "running";
    default:
      return "unknown";
  }
}

std::string SignalName(int signal) {
  const char* abbrev = sigabbrev_np(signal);  // glibc >= 2.32
  if (abbrev == nullptr) return "signal " + std::to_string(signal);
  return std::string("SIG") + abbrev;
}

uint64_t SamplingInterval(const report::Report& report) {
  return report.sampling_interval_bytes() == 0 ? 1 : report.sampling_interval_bytes();
}

bool TemporariesCounted(const report::Report& report) {
  return SamplingInterval(report) == 1;
}

bool EndedByExec(const report::Report& report) {
  return report.process().end() == report::Process::ENDED && report.process().how() == "exec";
}

std::string Basename(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const report::Frame& FrameAt(const report::Report& report, uint32_t index) {
  if (index < static_cast<uint32_t>(report.frames_size())) return report.frames(index);
  return report::Frame::default_instance();
}

}  // namespace leakscope::viewer
