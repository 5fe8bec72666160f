#include "process_stopper.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <set>

namespace leakscope::collector {
namespace {

// How long one thread may take to reach its stop (a thread in an
// uninterruptible sleep stops when it leaves it).
constexpr int kStopTimeoutMs = 2000;

std::set<pid_t> ListThreads(pid_t pid) {
  std::set<pid_t> tids;
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/task", int(pid));
  DIR* d = opendir(path);
  if (!d) return tids;
  while (dirent* e = readdir(d))
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') tids.insert(pid_t(std::atoi(e->d_name)));
  closedir(d);
  return tids;
}

std::string ThreadName(pid_t pid, pid_t tid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/task/%d/comm", int(pid), int(tid));
  char name[32] = {};
  if (FILE* f = std::fopen(path, "re")) {
    if (!std::fgets(name, sizeof name, f)) name[0] = 0;
    std::fclose(f);
  }
  name[std::strcspn(name, "\n")] = 0;
  return name;
}

bool ReadRegisters(StoppedThread* t) {
#if defined(__x86_64__)
  user_regs_struct regs;
  iovec io{&regs, sizeof regs};
  if (ptrace(PTRACE_GETREGSET, t->tid, reinterpret_cast<void*>(NT_PRSTATUS), &io) != 0)
    return false;
  const auto* words = reinterpret_cast<const unsigned long long*>(&regs);
  t->registers.assign(words, words + io.iov_len / sizeof(unsigned long long));
  t->stack_pointer = regs.rsp;
  t->thread_pointer = regs.fs_base;
  return true;
#else
  (void)t;
  errno = ENOSYS;
  return false;
#endif
}

void SleepBriefly() {
  timespec ts{0, 200 * 1000};
  nanosleep(&ts, nullptr);
}

}  // namespace

// Waits (bounded) for the thread's stop. Another thread of this process may
// reap the notification first (a parent waiting for its child, as `leakscope
// run` does): registers that can be read mean it is stopped all the same.
bool ProcessStopper::StopThread(pid_t tid, std::string* error) {
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) {
    if (errno == ESRCH) return true;  // gone meanwhile
    // EPERM: yama's ptrace_scope, a container without CAP_SYS_PTRACE, another
    // uid's or a non-dumpable process. Said as such: the one line a user sees.
    *error = errno == EPERM ? "ptrace not permitted: yama ptrace_scope, a container without "
                              "CAP_SYS_PTRACE, or another user's process"
                            : std::string("ptrace: ") + std::strerror(errno);
    return false;
  }
  StoppedThread t;
  t.tid = tid;
  threads_.push_back(t);
  StoppedThread& held = threads_.back();
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) != 0) return true;  // exiting
  for (int waited_us = 0; waited_us < kStopTimeoutMs * 1000; waited_us += 200) {
    int status = 0;
    const pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
    if (r == tid && (WIFEXITED(status) || WIFSIGNALED(status))) {
      threads_.pop_back();
      return true;
    }
    if (r == tid && WIFSTOPPED(status)) {
      // A signal-delivery stop holds a signal the thread has not had yet.
      if ((status >> 16) != PTRACE_EVENT_STOP) held.pending_signal = WSTOPSIG(status);
      break;
    }
    if (r < 0 && errno == ECHILD && ReadRegisters(&held)) break;
    if (r == 0 && ReadRegisters(&held)) break;
    SleepBriefly();
  }
  if (!ReadRegisters(&held)) {
    if (errno == ESRCH) {  // exited while we waited
      threads_.pop_back();
      return true;
    }
    *error = "thread " + std::to_string(tid) + " did not stop";
    return false;
  }
  held.name = ThreadName(pid_, tid);
  return true;
}

bool ProcessStopper::Stop(pid_t pid, pid_t leave_running, std::string* error) {
  pid_ = pid;
  std::set<pid_t> seen;
  if (leave_running) seen.insert(leave_running);
  for (;;) {
    bool fresh = false;
    for (pid_t tid : ListThreads(pid)) {
      if (!seen.insert(tid).second) continue;
      fresh = true;
      if (!StopThread(tid, error)) {
        Resume();
        return false;
      }
    }
    if (!fresh) break;
  }
  if (threads_.empty()) {
    *error = "no thread of pid " + std::to_string(pid) + " could be stopped";
    return false;
  }
  return true;
}

bool ProcessStopper::StopAlso(pid_t tid, std::string* error) {
  for (const StoppedThread& t : threads_)
    if (t.tid == tid) return true;
  return StopThread(tid, error);
}

bool ProcessStopper::WakeFromFutex(pid_t tid) {
#if defined(__x86_64__)
  if (ptrace(PTRACE_SEIZE, tid, nullptr, nullptr) != 0) return false;
  bool woken = false;
  user_regs_struct regs;
  iovec io{&regs, sizeof regs};
  bool stopped = false;
  if (ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr) == 0) {
    for (int waited_us = 0; !stopped && waited_us < kStopTimeoutMs * 1000; waited_us += 200) {
      int status = 0;
      const pid_t r = waitpid(tid, &status, __WALL | WNOHANG);
      if (r == tid && (WIFEXITED(status) || WIFSIGNALED(status))) return false;
      // Only the interrupt's own stop: a signal-delivery stop would need its
      // signal handed back, and the drain thread blocks every signal.
      if (r == tid && WIFSTOPPED(status)) {
        if ((status >> 16) != PTRACE_EVENT_STOP) {
          ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(uintptr_t(WSTOPSIG(status))));
          return false;
        }
        stopped = true;
        break;
      }
      if ((r == 0 || (r < 0 && errno == ECHILD)) &&
          ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_PRSTATUS), &io) == 0) {
        stopped = true;
        break;
      }
      SleepBriefly();
    }
  }
  io = {&regs, sizeof regs};
  if (stopped && ptrace(PTRACE_GETREGSET, tid, reinterpret_cast<void*>(NT_PRSTATUS), &io) == 0) {
    // The kernel's "restart this call" codes (ERESTARTSYS, ERESTART_RESTARTBLOCK
    // for a wait with a timeout): EINTR in their place is returned instead.
    const long long result = static_cast<long long>(regs.rax);
    if (regs.orig_rax == SYS_futex && (result == -512 || result == -516)) {
      regs.rax = static_cast<unsigned long long>(-EINTR);
      woken = ptrace(PTRACE_SETREGSET, tid, reinterpret_cast<void*>(NT_PRSTATUS), &io) == 0;
    }
  }
  ptrace(PTRACE_DETACH, tid, nullptr, nullptr);
  return woken;
#else
  (void)tid;
  return false;
#endif
}

void ProcessStopper::Resume() {
  for (const StoppedThread& t : threads_)
    ptrace(PTRACE_DETACH, t.tid, nullptr, reinterpret_cast<void*>(uintptr_t(t.pending_signal)));
  threads_.clear();
}

}  // namespace leakscope::collector
