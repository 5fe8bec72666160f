// The socket to the collector. Blocking writes with a send timeout, so a
// stuck collector stalls only the drain thread, and never for long; a gone
// collector (EPIPE, ECONNREFUSED) turns into counted drops and a reconnect
// attempt at most once a second.
#pragma once

#include <cstddef>
#include <cstdint>

namespace leakscope::preload {

class CollectorConnection {
 public:
  // Connects if not connected and the last attempt is old enough.
  // Returns true if this call established a new connection.
  bool MaybeConnect(const char* socket_path, uint64_t now_ns);
  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }  // for the in-process API's replies (drain.cc)
  // True if the collector is behind: what it has not read yet fills over a
  // quarter of the socket's send buffer (the kernel's test for writable).
  bool Backlogged() const;
  // False (and disconnected) if the collector is gone or stuck.
  bool Send(const char* data, size_t size);
  void Close();
  // After fork: the child must not touch the parent's connection.
  void Forget() {
    fd_ = -1;
    last_attempt_ns_ = 0;
  }

 private:
  int fd_ = -1;
  uint64_t last_attempt_ns_ = 0;
  bool ever_attempted_ = false;
};

}  // namespace leakscope::preload
