// Stops every thread of another process for a consistent read of its memory
// (the reachability scan) and lets them all go again, on every path.
//
// PTRACE_SEIZE + PTRACE_INTERRUPT, not PTRACE_ATTACH/SIGSTOP: nothing the
// program can see (no SIGSTOP, no group stop), and if the collector dies
// while the threads are stopped the kernel detaches them and they run on.
// Threads started while the others are being stopped are found by reading
// /proc/PID/task again until no new one appears. A signal that arrived while
// a thread was held is handed back to it when it is let go.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace leakscope::collector {

struct StoppedThread {
  pid_t tid = 0;
  std::vector<uint64_t> registers;  // the general registers, every one a root
  uint64_t stack_pointer = 0;
  uint64_t thread_pointer = 0;  // x86-64 fs_base: the thread's TCB, its static TLS below
  std::string name;             // /proc/PID/task/TID/comm
  int pending_signal = 0;       // to deliver when let go
};

class ProcessStopper {
 public:
  ProcessStopper() = default;
  ~ProcessStopper() { Resume(); }
  ProcessStopper(const ProcessStopper&) = delete;
  ProcessStopper& operator=(const ProcessStopper&) = delete;

  // Stops every thread of `pid`. False with one line in *error (ptrace
  // refused: not permitted, yama, a container; or no such process); then
  // nothing is left stopped.
  bool Stop(pid_t pid, std::string* error) { return Stop(pid, 0, error); }
  // The same, but `leave_running` (one of its threads, or 0) is left to run:
  // the shim's drain thread, while the scan waits for its pass.
  bool Stop(pid_t pid, pid_t leave_running, std::string* error);
  // Stops one more thread of the same process (the one left running).
  // False with one line in *error; the others stay stopped.
  bool StopAlso(pid_t tid, std::string* error);
  const std::vector<StoppedThread>& threads() const { return threads_; }
  // Lets every stopped thread go (also done by the destructor).
  void Resume();

  // Cuts short the futex sleep of thread `tid`, which must be
  // stopped by nobody (the drain thread, left running): it is stopped an
  // instant (PTRACE_INTERRUPT) and, if it sleeps in futex(2), let go with
  // EINTR for the sleep's result instead of the sleep's restart. A futex
  // wait may always end early, so its caller checks and loops. True if it
  // was sleeping so; never leaves it stopped.
  static bool WakeFromFutex(pid_t tid);

 private:
  bool StopThread(pid_t tid, std::string* error);
  pid_t pid_ = 0;
  std::vector<StoppedThread> threads_;
};

}  // namespace leakscope::collector
