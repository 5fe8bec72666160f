// libunwind (1.6) checks that an address is readable before it reads it on
// frames without unwind information (a stripped `_start`, JIT code) by
// writing a byte from it into a pipe of its own. It makes that pipe with
// pipe2 the first time, at the lowest free numbers (3 and 4 in most
// programs), then reads and writes those numbers without ever checking they
// are still its pipe, and when a read fails, closes them and makes a new
// pipe. bash's `exec 3>file` put the script's file at 3: libunwind's next
// check closed it and the script's 40 lines went into the new pipe.
//
// Its pipe2 comes here. Called while this thread records one of the
// program's events (the only time the shim unwinds), the pipe goes where the
// shim keeps its descriptors (owned_fd.h: 1000 and up, close-on-exec), out
// of the program's way; and once the program is in seccomp mode it is not
// made at all (sandbox.h): libunwind then takes the address as unreadable,
// and that stack ends at that frame.
#include <errno.h>
#include <unistd.h>

#include "hooks.h"
#include "owned_fd.h"
#include "sandbox.h"
#include "shim.h"

using namespace leakscope::preload;

extern "C" __attribute__((visibility("default"))) int pipe2(int fds[2], int flags) {
  const auto real = Real().pipe2;
  if (!t_thread.recording) return real(fds, flags);
  if (Sandboxed()) {
    errno = EPERM;
    return -1;
  }
  int made[2];
  if (real(made, flags) != 0) return -1;
  fds[0] = MoveFdHigh(made[0]);
  fds[1] = MoveFdHigh(made[1]);
  return 0;
}
