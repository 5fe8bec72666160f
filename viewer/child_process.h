// Starting the traced command and waiting for it.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace leakscope::viewer {

struct Spawned {
  pid_t pid = -1;      // valid when exec_errno == 0
  int exec_errno = 0;  // why the command could not be executed (ENOENT, EACCES, ...)
};

// While it lives, the signals someone may send `leakscope run` to reach the
// command (SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM, SIGTERM) are
// passed on to it, and none of them ends `run`: it waits for the command and
// writes the report. One that came before the command was started is passed
// on once it is. A signal `run` was started ignoring (nohup) stays ignored,
// and the command inherits that. Signals from the terminal reach the command
// already (same process group) and are not sent twice. Create before
// SpawnCommand, on the thread that waits; threads created afterwards should
// block ForwardedSignals() so that the handler runs on that one.
class SignalForwarding {
 public:
  SignalForwarding();
  ~SignalForwarding();  // back to the dispositions and mask of before
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;
  // From now on signals go to `pid`; 0: to nobody (it has been waited for).
  void To(pid_t pid);
};

// The signals SignalForwarding passes on.
sigset_t ForwardedSignals();

// Starts `command` (searched in PATH like a shell does) with exactly `env`,
// in a child that shares this process's memory until its exec (vfork-like:
// nothing is copied), so the caller learns an exec failure's errno instead
// of seeing a child exit with 127. Safe with other threads running: the
// child only makes system calls, with every signal blocked until it has put
// back the dispositions and mask of before SignalForwarding.
// False + *error if the process could not even be forked.
bool SpawnCommand(const std::vector<std::string>& command, const std::vector<std::string>& env,
                  Spawned* spawned, std::string* error);

// waitpid() for `pid`, its signals passed on by `forwarding` until it has
// ended (and not after: its pid may be reused); returns the wait status.
int WaitForwardingSignals(pid_t pid, SignalForwarding* forwarding);

// The exit status a shell would report: the child's, or 128 + signal.
int ShellExitStatus(int wait_status);

}  // namespace leakscope::viewer
