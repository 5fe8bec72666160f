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

// A control request (`leakscope snapshot PID`) from a peer of uid `asker`
// about a traced process whose stream came from uid `owner`: allowed to
// root and to that same uid. Being allowed to connect (--allow-uid) is not
// enough: one allowed user must not dump another's heap.
bool MaySnapshot(uid_t asker, uid_t owner);

}  // namespace leakscope::collector
