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
  if (sock_.valid()) return false;
  if (ever_attempted_ && !retry_now_ && now_ns - last_attempt_ns_ < 1000000000ull) return false;
  ever_attempted_ = true;
  retry_now_ = false;
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
  return sock_.Adopt(fd);
}

bool CollectorConnection::Verify() {
  if (!sock_.valid()) return false;
  if (sock_.Verify()) return true;
  ++taken_;
  retry_now_ = true;
  return false;
}

bool CollectorConnection::Send(const char* data, size_t size) {
  if (!Verify()) return false;
  while (size > 0) {
    ssize_t n = send(sock_.get(), data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Close();
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool CollectorConnection::Backlogged() {
  if (!Verify()) return false;  // poll only our own socket
  pollfd p = {sock_.get(), POLLOUT, 0};
  return poll(&p, 1, 0) == 0;
}

void CollectorConnection::Close() {
  sock_.Close();
}

}  // namespace leakscope::preload
