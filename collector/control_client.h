// The client side of wire.Control (`leakscope snapshot PID`): one request on
// a connection of its own to the daemon's socket, one Reply back. The
// daemon checks who asks (SO_PEERCRED): see collector/peer_policy.h.
#pragma once

#include <optional>
#include <string>

#include "wire.pb.h"

namespace leakscope::collector {

// Sends `control` to the daemon listening on `socket_path` and waits at most
// `timeout_ms` for its Reply. nullopt + one-line *error if there is no daemon
// there, it closed the connection (it refused our uid) or did not answer.
std::optional<wire::Reply> SendControl(const std::string& socket_path, const wire::Control& control,
                                       int timeout_ms, std::string* error);

}  // namespace leakscope::collector
