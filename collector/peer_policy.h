// Who may stream to the daemon: the socket's mode and group, and each peer's
// uid as the kernel reports it (SO_PEERCRED, which a client cannot forge).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace leakscope::collector {

// Mode 0600, or 0660 with group `group` when it is not empty. False + one-line
// *error if the group does not exist or the socket cannot be changed.
bool SecureSocket(const std::string& path, const std::string& group, std::string* error);

// `allowed` empty means the daemon's own effective uid only.
bool UidAllowed(uid_t uid, const std::vector<uint32_t>& allowed);

}  // namespace leakscope::collector
