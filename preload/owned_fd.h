// A descriptor the shim opened in the traced program's descriptor table.
// The program may close it (a daemon closing every descriptor, bash's
// `exec 3>file`, dup2 over it) and get the same number back for a file or a
// connection of its own. So the shim keeps its descriptors far above the
// numbers a program uses, close-on-exec, remembers what each one is (device
// and inode, from fstat), and reads, writes or closes one only after fstat
// says it is still that: never someone else's.
#pragma once

#include <sys/types.h>

namespace leakscope::preload {

// The lowest number the shim puts its descriptors at: 1000 under the usual
// limit of open files (1024, or more), the top quarter of a lower limit. Not
// the top of a high limit: the kernel sizes a process's descriptor table to
// its highest descriptor (a million entries is 8 MiB of kernel memory).
int HighFdFloor();

// `fd`, just opened by the shim, moved to HighFdFloor() or above with
// close-on-exec (F_DUPFD_CLOEXEC; the original is closed). If nothing is free
// up there, the original, close-on-exec. -1 stays -1.
int MoveFdHigh(int fd);

class OwnedFd {
 public:
  // Moves `fd` high and records what it is. False (and nothing kept, `fd`
  // closed) if fstat fails.
  bool Adopt(int fd);
  bool valid() const { return fd_ >= 0; }
  int get() const { return fd_; }
  // True if the number still holds the descriptor adopted (same device and
  // inode): one fstat. False once it was closed or replaced; the number is
  // then forgotten, never closed (it is not ours any more).
  bool Verify();
  // Closes it if it is still ours; forgets it either way.
  void Close();
  // Forgets the number without touching it.
  void Forget() { fd_ = -1; }

 private:
  int fd_ = -1;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
};

}  // namespace leakscope::preload
