#include "accept_backoff.h"

#include <cerrno>
#include <cstring>

namespace leakscope::collector {

bool AcceptBackoff::Exhausted(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

std::string AcceptBackoff::Pause(int error, uint64_t now_ns, size_t open) {
  paused_ = true;
  paused_at_ns_ = now_ns;
  ++unlogged_;
  if (logged_ && now_ns - logged_at_ns_ < kLogEveryNs) return "";
  std::string line = "accept: " + std::string(std::strerror(error)) + " (" + std::to_string(open) +
                     " streams open); new connections wait";
  if (unlogged_ > 1) line += " (" + std::to_string(unlogged_) + " failures since the last line)";
  logged_ = true;
  logged_at_ns_ = now_ns;
  unlogged_ = 0;
  return line;
}

}  // namespace leakscope::collector
