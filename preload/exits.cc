// Every way a process image ends, so that what was recorded reaches the
// collector and the report says how it ended:
//   - exit(): records the status; our destructor flushes after the program's
//     static destructors and atexit handlers ran (we were loaded first, so we
//     are torn down last);
//   - return from main: __libc_start_main is wrapped to see main's value;
//   - _exit/_Exit: flush here, nothing else will run;
//   - exec*: flush before the image is replaced (the new image, preloaded
//     again, opens its own stream); if exec fails tracing simply goes on;
//   - signals left at their default action, fatal (SIGSEGV, SIGABRT from an
//     uncaught exception...) or not (SIGTERM, SIGINT...): a handler flushes,
//     then re-raises with the default action (signal_deaths.cc).
// SIGKILL cannot be caught: the collector then has everything up to the last
// drain (at most one flush interval, 10 ms by default), and the report says
// how many milliseconds may be missing.
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "drain.h"
#include "exit_began.h"
#include "hooks.h"
#include "reachability_wait.h"
#include "shim.h"

namespace leakscope::preload {
namespace {

// Runs `fn` as the shim, not as the program: its allocations are not recorded.
template <typename F>
void AsShim(F fn) {
  ThreadState& t = t_thread;
  const bool was_busy = t.busy;
  t.busy = true;
  fn();
  t.busy = was_busy;
}

using MainFn = int (*)(int, char**, char**);
MainFn g_real_main;

int MainTrampoline(int argc, char** argv, char** envp) {
  const int status = g_real_main(argc, argv, envp);
  WipeStackBeforeScan();
  NoteExitStatus(status, "return from main");
  NoteExitBegan("return from main");
  return status;
}

// _exit's work, out of line: _exit's own frame then keeps no locals (a
// lambda's captures would leave holes there, above the wiped stack).
__attribute__((noinline)) void FinishBeforeExitNow(int status) {
  AsShim([&] {
    AwaitReachabilityScan();
    FinishProcess(&status, "_exit");
  });
}

}  // namespace

// Not in a vfork() child: the stream and its lock are the parent's, and the
// parent is suspended until we exec (it flushes its own events).
void FlushBeforeExec() {
  if (g_shim.recording && InOwnerProcess()) AsShim([] { FlushForExec(); });
}

}  // namespace leakscope::preload

using namespace leakscope::preload;

extern "C" {

__attribute__((visibility("default"))) int __libc_start_main(MainFn main, int argc, char** argv,
                                                             void (*init)(), void (*fini)(),
                                                             void (*rtld_fini)(), void* stack_end) {
  g_real_main = main;
  return Real().libc_start_main(MainTrampoline, argc, argv, init, fini, rtld_fini, stack_end);
}

__attribute__((visibility("default"), noreturn)) void exit(int status) {
  if (InOwnerProcess()) {
    WipeStackBeforeScan();
    NoteExitStatus(status, "exit");
    NoteExitBegan("exit");
  }
  Real().exit(status);
  __builtin_unreachable();
}

__attribute__((visibility("default"), noreturn)) void _exit(int status) {
  const auto real = Real().exit_now;
  // A vfork() child whose exec failed leaves with _exit: the parent's stream
  // is not its to finish.
  if (g_shim.recording && InOwnerProcess()) {
    WipeStackBeforeScan();
    FinishBeforeExitNow(status);
  }
  real(status);
  __builtin_unreachable();
}

__attribute__((visibility("default"), noreturn)) void _Exit(int status) {
  _exit(status);
}

__attribute__((visibility("default"))) int execve(const char* path, char* const argv[],
                                                  char* const envp[]) {
  FlushBeforeExec();
  return Real().execve(path, argv, envp);
}

__attribute__((visibility("default"))) int execv(const char* path, char* const argv[]) {
  FlushBeforeExec();
  return Real().execv(path, argv);
}

__attribute__((visibility("default"))) int execvp(const char* file, char* const argv[]) {
  FlushBeforeExec();
  return Real().execvp(file, argv);
}

__attribute__((visibility("default"))) int execvpe(const char* file, char* const argv[],
                                                   char* const envp[]) {
  FlushBeforeExec();
  return Real().execvpe(file, argv, envp);
}

// The variadic forms call execve inside libc, out of our reach: collect the
// arguments and go through the wrappers above.
#define LEAKSCOPE_COLLECT_ARGS(first, ap, argv)                          \
  size_t argc = 1;                                                       \
  va_start(ap, first);                                                   \
  while (va_arg(ap, const char*)) ++argc;                                \
  va_end(ap);                                                            \
  char** argv = static_cast<char**>(alloca((argc + 1) * sizeof(char*))); \
  argv[0] = const_cast<char*>(first);                                    \
  va_start(ap, first);                                                   \
  for (size_t i = 1; i <= argc; ++i) argv[i] = va_arg(ap, char*);

__attribute__((visibility("default"))) int execl(const char* path, const char* arg, ...) {
  va_list ap;
  LEAKSCOPE_COLLECT_ARGS(arg, ap, argv)
  va_end(ap);
  return execv(path, argv);
}

__attribute__((visibility("default"))) int execlp(const char* file, const char* arg, ...) {
  va_list ap;
  LEAKSCOPE_COLLECT_ARGS(arg, ap, argv)
  va_end(ap);
  return execvp(file, argv);
}

__attribute__((visibility("default"))) int execle(const char* path, const char* arg, ...) {
  va_list ap;
  LEAKSCOPE_COLLECT_ARGS(arg, ap, argv)
  char* const* envp = va_arg(ap, char* const*);
  va_end(ap);
  return execve(path, argv, envp);
}

}  // extern "C"
