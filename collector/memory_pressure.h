// Memory pressure for --dump-on-pressure: PSI triggers
// (Documentation/accounting/psi.rst). Writing "some <stall us> <window us>"
// to a memory.pressure file (a cgroup v2's, or /proc/pressure/memory for the
// whole machine) and keeping it open makes the kernel report POLLPRI
// (EPOLLPRI) at most once per window in which tasks of that cgroup stalled
// on memory (reclaim, refaults, swap-in) for at least that long. One trigger
// per file, shared by the streams of processes in that cgroup; the event
// loop polls it with everything else.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>

namespace leakscope::collector {

// The window every trigger uses: 2 s (the kernel's range is 0.5 to 10 s, but
// without CAP_SYS_RESOURCE, as root in a container, only multiples of 2 s).
inline constexpr uint32_t kPressureWindowMs = 2000;
inline constexpr char kSystemPressureFile[] = "/proc/pressure/memory";

// Opens `file` and arms a trigger of `stall_ms` per window on it. The
// descriptor, or -1 + one-line *error (no PSI: kernel without it, a v1-only
// cgroup; EPERM: an unprivileged window must be a multiple of 2 s).
int OpenPressureTrigger(const std::string& file, uint32_t stall_ms, std::string* error);

// The pressure file for a process in v2 cgroup `cgroup_dir` ("" for none):
// its memory.pressure if that exists, else the machine's.
std::string PressureFileFor(const std::string& cgroup_dir);

// The triggers in use, by file, each counted by the streams that use it.
class PressureTriggers {
 public:
  explicit PressureTriggers(uint32_t stall_ms) : stall_ms_(stall_ms) {}
  ~PressureTriggers();
  PressureTriggers(const PressureTriggers&) = delete;
  PressureTriggers& operator=(const PressureTriggers&) = delete;

  // The trigger on `file`, opened on first use (*opened then: add it to the
  // poll set). -1 + *error if it cannot be armed.
  int Acquire(const std::string& file, bool* opened, std::string* error);
  // One stream less on `file`; closed (leaving the poll set) with the last:
  // returns the descriptor it closed then, else -1.
  int Release(const std::string& file);

 private:
  struct Trigger {
    int fd = -1;
    size_t users = 0;
  };
  uint32_t stall_ms_;
  std::map<std::string, Trigger> triggers_;
};

}  // namespace leakscope::collector
