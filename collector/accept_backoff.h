// What the server does when accept() fails for want of a file descriptor
// (EMFILE, ENFILE, or kernel memory: ENOBUFS, ENOMEM). The connection stays
// queued, so the listening socket stays readable: a level-triggered loop
// would call accept() again at once, for ever (97% of a core and 148 MB of
// log in 10 s). Instead the socket is left out of the poll set until a
// connection closes (an fd came free) or the pause is over, and the failure
// is logged at most once a second, with how many were not.
#pragma once

#include <cstdint>
#include <string>

namespace leakscope::collector {

class AcceptBackoff {
 public:
  // How long accepting pauses when nothing closes meanwhile.
  static constexpr uint64_t kPauseNs = 200'000'000;
  static constexpr uint64_t kLogEveryNs = 1'000'000'000;

  // True if `error` (an accept() errno) means "out of descriptors or
  // memory": the caller stops polling the listening socket.
  static bool Exhausted(int error);

  // accept() failed with such an error at `now_ns` (monotonic) while
  // `open` connections are open. Returns the line to log, or "" while one
  // was logged less than a second ago.
  std::string Pause(int error, uint64_t now_ns, size_t open);

  bool paused() const { return paused_; }
  // True if the pause is over at `now_ns`.
  bool Due(uint64_t now_ns) const { return paused_ && now_ns - paused_at_ns_ >= kPauseNs; }
  // The caller polls the listening socket again.
  void Resume() { paused_ = false; }

 private:
  bool paused_ = false;
  uint64_t paused_at_ns_ = 0;
  uint64_t logged_at_ns_ = 0;
  bool logged_ = false;
  uint64_t unlogged_ = 0;  // failures since the last line
};

}  // namespace leakscope::collector
