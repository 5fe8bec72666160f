// The socket to the collector. Blocking writes with a send timeout, so a
// stuck collector stalls only the drain thread, and never for long; a gone
// collector (EPIPE, ECONNREFUSED) turns into counted drops and a reconnect
// attempt at most once a second.
//
// The socket lives in the program's descriptor table, which the program may
// rearrange (owned_fd.h): it is kept at 1000 and up, close-on-exec, and
// checked to still be ours before every frame. One the program closed or
// replaced is forgotten, never written to or closed, and the next pass
// reconnects at once (a new stream; the collector had already seen the old
// one end when the program closed it).
#pragma once

#include <cstddef>
#include <cstdint>

#include "owned_fd.h"

namespace leakscope::preload {

class CollectorConnection {
 public:
  // Connects if not connected and the last attempt is old enough (or the
  // program took the last socket). Returns true if this call established a
  // new connection.
  bool MaybeConnect(const char* socket_path, uint64_t now_ns);
  bool connected() const { return sock_.valid(); }
  int fd() const { return sock_.get(); }  // for the in-process API's replies (drain.cc)
  // True if the collector is behind: what it has not read yet fills over a
  // quarter of the socket's send buffer (the kernel's test for writable).
  bool Backlogged();
  // Still connected through our own socket (one fstat): false, and
  // disconnected without touching the descriptor, if the program closed it
  // or put something else at its number.
  bool Verify();
  // False (and disconnected) if the collector is gone or stuck, or the
  // socket is no longer ours.
  bool Send(const char* data, size_t size);
  void Close();
  // After fork: the child must not touch the parent's connection.
  void Forget() {
    sock_.Forget();
    last_attempt_ns_ = 0;
  }
  // Sockets the program closed or replaced under us, in this process.
  uint64_t taken() const { return taken_; }

 private:
  OwnedFd sock_;
  uint64_t last_attempt_ns_ = 0;
  bool ever_attempted_ = false;
  bool retry_now_ = false;  // the program took the socket: the collector is not at fault
  uint64_t taken_ = 0;
};

}  // namespace leakscope::preload
