// Starting the traced command and waiting for it.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace leakscope::viewer {

struct Spawned {
  pid_t pid = -1;      // valid when exec_errno == 0
  int exec_errno = 0;  // why the command could not be executed (ENOENT, EACCES, ...)
};

// Forks and executes `command` (searched in PATH like a shell does) with
// exactly `env`. Exec failure is reported through a close-on-exec pipe, so
// the caller learns it instead of seeing a child exit with 127. Call while
// the process has a single thread: between fork and exec only the calling
// thread exists, and exec* must not meet a lock held by another thread.
// False + *error if the process could not even be forked.
bool SpawnCommand(const std::vector<std::string>& command, const std::vector<std::string>& env,
                  Spawned* spawned, std::string* error);

// waitpid() for `pid`, passing SIGINT and SIGTERM sent to us on to it; returns
// the wait status. Signals from the terminal already reach the child (same
// process group) and are not sent twice.
int WaitForwardingSignals(pid_t pid);

// The exit status a shell would report: the child's, or 128 + signal.
int ShellExitStatus(int wait_status);

}  // namespace leakscope::viewer
