// Deaths by signal. A process killed by a signal it leaves at its default
// action (SIGTERM from kill or systemd, SIGHUP, SIGINT, SIGPIPE, SIGALRM,
// SIGUSR1..., or a fault: SIGSEGV, SIGABRT...) would lose the events of its
// last flush interval, and its report would not say so. While the program
// leaves such a signal at SIG_DFL, the shim's handler stands in: it flushes,
// puts SIG_DFL back and raises the signal again, so the process dies by the
// same signal as it would have (the same wait status, core dump included).
//
// The program must see no difference. sigaction() and the signal() family
// are interposed: while our handler is installed, a query returns what the
// program set (SIG_DFL); when the program installs a handler or SIG_IGN, that
// goes to the kernel and we step aside; when it sets SIG_DFL again, our
// handler goes back. A change made behind our back (a raw rt_sigaction
// syscall, sigset()) is noticed at the program's next sigaction() call.
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <atomic>

#include "drain.h"
#include "hooks.h"
#include "shim.h"

namespace leakscope::preload {
namespace {

struct Slot {
  bool managed;              // a signal whose default action ends the process
  std::atomic<bool> ours;    // the kernel holds our handler for it
  struct sigaction program;  // what the program set, while ours is installed (SIG_DFL)
  char how[32];              // "signal SIGTERM", for the goodbye
};

Slot g_slots[NSIG];

bool IsFault(int sig) {
  return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL || sig == SIGABRT ||
         sig == SIGTRAP || sig == SIGSYS;
}

bool Managed(int sig) {
  return sig > 0 && sig < NSIG && g_slots[sig].managed;
}

void OnDeadlySignal(int sig);

bool IsOurs(const struct sigaction& a) {
  return !(a.sa_flags & SA_SIGINFO) && a.sa_handler == OnDeadlySignal;
}

struct sigaction OurAction() {
  struct sigaction a;
  memset(&a, 0, sizeof a);
  a.sa_handler = OnDeadlySignal;
  // No other handler runs on this thread while it flushes; the raise at the
  // end unblocks this signal alone. On the alternate stack if the program
  // has one (a stack overflow).
  a.sa_flags = SA_ONSTACK;
  sigfillset(&a.sa_mask);
  return a;
}

void OnDeadlySignal(int sig) {
  ThreadState& t = t_thread;
  const bool was_busy = t.busy;
  t.busy = true;
  // An asynchronous signal that interrupted the shim's own work on this
  // thread (its heap, a module map refresh) may find it half done: no flush
  // then, and the report says its last moments may be missing. A fault is
  // flushed wherever it comes from, bounded as every exit path is.
  if ((IsFault(sig) || !was_busy) && InOwnerProcess()) FinishFromSignalHandler(g_slots[sig].how);
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  Real().sigaction(sig, &dfl, nullptr);
  g_slots[sig].ours.store(false, std::memory_order_relaxed);
  sigset_t only;
  sigemptyset(&only);
  sigaddset(&only, sig);
  pthread_sigmask(SIG_UNBLOCK, &only, nullptr);
  raise(sig);
  t.busy = was_busy;  // not reached: the default action ended the process
}

// The kernel still holds our handler for `sig` (the program may have changed
// it by other means since).
bool StillOurs(int sig) {
  if (!g_slots[sig].ours.load(std::memory_order_relaxed)) return false;
  struct sigaction now;
  if (Real().sigaction(sig, nullptr, &now) == 0 && IsOurs(now)) return true;
  g_slots[sig].ours.store(false, std::memory_order_relaxed);
  return false;
}

// Our handler instead of SIG_DFL, `dfl` (the kernel's view of the program's
// SIG_DFL, flags and mask included) kept to show it.
void InstallOurs(int sig, const struct sigaction& dfl) {
  const struct sigaction ours = OurAction();
  g_slots[sig].program = dfl;
  if (Real().sigaction(sig, &ours, nullptr) == 0)
    g_slots[sig].ours.store(true, std::memory_order_relaxed);
}

// The program has just set SIG_DFL (glibc filled in its flags): our handler
// goes back in its place.
void RetakeDefault(int sig) {
  struct sigaction now;
  if (Real().sigaction(sig, nullptr, &now) == 0 && now.sa_handler == SIG_DFL) InstallOurs(sig, now);
}

void NameSignal(int sig, char* out, size_t size) {
  if (const char* abbrev = sigabbrev_np(sig)) {
    snprintf(out, size, "signal SIG%s", abbrev);
  } else if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
    snprintf(out, size, "signal SIGRTMIN+%d", sig - SIGRTMIN);
  } else {
    snprintf(out, size, "signal %d", sig);
  }
}

// Changes `sig`'s handler as signal()/sysv_signal() do (`real` is glibc's,
// with its flags), keeping our handler in place of SIG_DFL.
__sighandler_t ChangeHandler(int sig, __sighandler_t handler,
                             __sighandler_t (*real)(int, __sighandler_t)) {
  if (!Managed(sig) || handler == SIG_ERR) return real(sig, handler);
  const bool ours = StillOurs(sig);
  const __sighandler_t shown = ours ? g_slots[sig].program.sa_handler : SIG_DFL;
  const __sighandler_t previous = real(sig, handler);
  if (previous == SIG_ERR) return SIG_ERR;
  if (handler == SIG_DFL && g_shim.recording) {
    RetakeDefault(sig);
  } else if (ours) {
    g_slots[sig].ours.store(false, std::memory_order_relaxed);
  }
  return ours ? shown : previous;
}

}  // namespace

void InstallDeathSignalHandlers() {
  static const int kDeadly[] = {SIGHUP,  SIGINT,  SIGQUIT,   SIGPIPE, SIGALRM, SIGTERM,
                                SIGUSR1, SIGUSR2, SIGSTKFLT, SIGXCPU, SIGXFSZ, SIGVTALRM,
                                SIGPROF, SIGIO,   SIGPWR,    SIGSEGV, SIGBUS,  SIGFPE,
                                SIGILL,  SIGABRT, SIGTRAP,   SIGSYS};
  for (int sig : kDeadly) g_slots[sig].managed = true;
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) g_slots[sig].managed = true;
  for (int sig = 1; sig < NSIG; ++sig) {
    Slot& s = g_slots[sig];
    if (!s.managed) continue;
    NameSignal(sig, s.how, sizeof s.how);
    // Only where the program (or whoever started it: nohup) left the default.
    struct sigaction current;
    if (Real().sigaction(sig, nullptr, &current) != 0 || current.sa_handler != SIG_DFL) continue;
    InstallOurs(sig, current);
  }
}

}  // namespace leakscope::preload

using namespace leakscope::preload;

extern "C" {

__attribute__((visibility("default"))) int sigaction(int sig, const struct sigaction* act,
                                                     struct sigaction* old) {
  const auto real = Real().sigaction;
  if (!Managed(sig)) return real(sig, act, old);
  const bool ours = StillOurs(sig);
  if (!act && ours) {
    if (old) *old = g_slots[sig].program;
    return 0;
  }
  // `act` and `old` may be the same struct.
  struct sigaction shown = g_slots[sig].program, previous;
  const int rc = real(sig, act, &previous);
  if (rc != 0 || !act) {
    if (rc == 0 && old) *old = previous;
    return rc;
  }
  if (act->sa_handler == SIG_DFL && g_shim.recording) {
    RetakeDefault(sig);
  } else if (ours) {
    g_slots[sig].ours.store(false, std::memory_order_relaxed);
  }
  if (old) *old = ours ? shown : previous;
  return 0;
}

__attribute__((visibility("default"))) int __sigaction(int sig, const struct sigaction* act,
                                                       struct sigaction* old) {
  return sigaction(sig, act, old);
}

__attribute__((visibility("default"))) __sighandler_t signal(int sig, __sighandler_t handler) {
  return ChangeHandler(sig, handler, Real().signal);
}

__attribute__((visibility("default"))) __sighandler_t bsd_signal(int sig, __sighandler_t handler) {
  return ChangeHandler(sig, handler, Real().signal);
}

__attribute__((visibility("default"))) __sighandler_t ssignal(int sig, __sighandler_t handler) {
  return ChangeHandler(sig, handler, Real().signal);
}

__attribute__((visibility("default"))) __sighandler_t __sysv_signal(int sig,
                                                                    __sighandler_t handler) {
  return ChangeHandler(sig, handler, Real().sysv_signal);
}

__attribute__((visibility("default"))) __sighandler_t sysv_signal(int sig, __sighandler_t handler) {
  return ChangeHandler(sig, handler, Real().sysv_signal);
}

}  // extern "C"
