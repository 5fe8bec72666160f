#include "output_folder.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace leakscope::collector {

bool PrepareOutputFolder(const std::string& dir, std::string* error) {
  const std::string what = "output folder '" + dir + "'";
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return *error = what + ": " + std::strerror(errno), false;
    // Exactly 0700, whatever the umask: reports are nobody else's business.
    if (mkdir(dir.c_str(), 0700) != 0 || chmod(dir.c_str(), 0700) != 0 ||
        stat(dir.c_str(), &st) != 0)
      return *error = what + ": cannot create: " + std::strerror(errno), false;
  }
  if (!S_ISDIR(st.st_mode)) return *error = what + ": not a directory", false;
  if (st.st_uid != geteuid()) {
    *error = what + ": owned by uid " + std::to_string(st.st_uid) + ", not by leakscoped's (" +
             std::to_string(geteuid()) + ")";
    return false;
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
    *error = what + ": writable by " + ((st.st_mode & S_IWOTH) ? "everyone" : "its group") +
             " and not sticky (chmod go-w, or +t)";
    return false;
  }
  if (faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0)
    return *error = what + ": not writable: " + std::strerror(errno), false;
  return true;
}

}  // namespace leakscope::collector
