#include "collector_connection.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

namespace leakscope::preload {

bool CollectorConnection::MaybeConnect(const char* path, uint64_t now_ns) {
  if (fd_ >= 0) return false;
  if (ever_attempted_ && now_ns - last_attempt_ns_ < 1000000000ull) return false;
  ever_attempted_ = true;
  last_attempt_ns_ = now_ns;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  timeval tv = {2, 0};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return false;
  }
  fd_ = fd;
  return true;
}

bool CollectorConnection::Send(const char* data, size_t size) {
  while (fd_ >= 0 && size > 0) {
    ssize_t n = send(fd_, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Close();
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return fd_ >= 0;
}

bool CollectorConnection::Backlogged() const {
  if (fd_ < 0) return false;
  pollfd p = {fd_, POLLOUT, 0};
  return poll(&p, 1, 0) == 0;
}

void CollectorConnection::Close() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
}

}  // namespace leakscope::preload
