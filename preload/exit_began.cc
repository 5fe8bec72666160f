// When exit begins, and the exits that tear nothing down.
//
// "Held until shutdown" needs the point where exit begins, before atexit
// handlers and static destructors free what the program kept all along (a
// cache that never evicts). Two hooks see that point on every path that tears
// the process down (exits.cc):
//   - exit() on any thread: the shim's exit() is the program's (and any
//     library's) through the PLT;
//   - return from main: glibc's __libc_start_call_main calls exit() through
//     an internal alias, out of reach, but the shim already wraps main (its
//     __libc_start_main passes a trampoline), which sees main return.
// Not an atexit handler: one registered by the shim would take one of the
// program's 32 slots that need no allocation (hidden_registrations.cc), and
// handlers registered later run earlier, so it would not come first anyway.
// The marker goes out synchronously from the exiting thread, under the drain
// lock, after a pass (drain.cc), so it is in order with every event recorded
// before it on any thread.
//
// _exit/_Exit and quick_exit run no destructors and no atexit handlers:
// nothing is torn down, so there is no marker and what is live stays a leak.
// quick_exit runs the at_quick_exit handlers, then glibc's internal _exit,
// which the shim cannot see: the stream is finished here, first (as for
// _exit), so the report has the status; what those handlers free is not seen.
#include "exit_began.h"

#include "drain.h"
#include "hooks.h"
#include "reachability_wait.h"
#include "shim.h"

namespace leakscope::preload {

void NoteExitBegan(const char* how) {
  // A vfork() child's exit is not the parent's.
  if (!g_shim.recording || !InOwnerProcess()) return;
  ThreadState& t = t_thread;
  const bool was_busy = t.busy;
  t.busy = true;  // the pass's own allocations are the shim's
  DrainExitBegan(how);
  AwaitReachabilityScan();
  t.busy = was_busy;
}

}  // namespace leakscope::preload

using namespace leakscope::preload;

extern "C" __attribute__((visibility("default"), noreturn)) void quick_exit(int status) {
  const auto real = Real().quick_exit;
  if (g_shim.recording && InOwnerProcess()) {
    t_thread.busy = true;
    FinishProcess(&status, "quick_exit");
    t_thread.busy = false;
  }
  real(status);
  __builtin_unreachable();
}
