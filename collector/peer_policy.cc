#include "peer_policy.h"

#include <grp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace leakscope::collector {

bool SecureSocket(const std::string& path, const std::string& group, std::string* error) {
  if (group.empty()) {
    if (chmod(path.c_str(), 0600) == 0) return true;
    *error = path + ": chmod: " + std::strerror(errno);
    return false;
  }
  const struct group* g = getgrnam(group.c_str());
  if (!g) {
    *error = "--socket-group " + group + ": no such group";
    return false;
  }
  if (chown(path.c_str(), static_cast<uid_t>(-1), g->gr_gid) != 0 ||
      chmod(path.c_str(), 0660) != 0) {
    *error = path + ": cannot give it to group " + group + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

bool UidAllowed(uid_t uid, const std::vector<uint32_t>& allowed) {
  if (allowed.empty()) return uid == geteuid();
  return std::find(allowed.begin(), allowed.end(), uid) != allowed.end();
}

bool MaySnapshot(uid_t asker, uid_t owner) {
  return asker == 0 || asker == owner;
}

}  // namespace leakscope::collector
