#include "owned_fd.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

namespace leakscope::preload {

int HighFdFloor() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 1000;
  const rlim_t soft = limit.rlim_cur;
  if (soft >= 1024) return 1000;
  const rlim_t floor = soft - soft / 4;
  return floor > 3 ? int(floor) : 3;
}

int MoveFdHigh(int fd) {
  if (fd < 0) return fd;
  const int high = fcntl(fd, F_DUPFD_CLOEXEC, HighFdFloor());
  if (high < 0) {
    // Nothing free up there (EMFILE) or a limit below the floor (EINVAL):
    // keep the number the kernel gave, which a program expects to be taken.
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    return fd;
  }
  close(fd);
  return high;
}

bool OwnedFd::Adopt(int fd) {
  fd_ = -1;
  if (fd < 0) return false;
  fd = MoveFdHigh(fd);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    close(fd);
    return false;
  }
  fd_ = fd;
  dev_ = st.st_dev;
  ino_ = st.st_ino;
  return true;
}

bool OwnedFd::Verify() {
  if (fd_ < 0) return false;
  struct stat st;
  if (fstat(fd_, &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_) return true;
  fd_ = -1;
  return false;
}

void OwnedFd::Close() {
  if (Verify()) close(fd_);
  fd_ = -1;
}

}  // namespace leakscope::preload
