// `leakscope snapshot PID`: asks the running leakscoped, through its socket,
// for a snapshot of one traced process now, and prints the path the daemon
// wrote it to (in its own folder, under its own name: the client never names
// a path). The daemon answers only its own uid's or root's requests.
#pragma once

#include <string>
#include <vector>

namespace leakscope::viewer {

int SnapshotCommand(const std::vector<std::string>& args);

}  // namespace leakscope::viewer
