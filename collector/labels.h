// What names a process across restarts, for /metrics: a pid changes when a
// service restarts on a host, and stays 1 when it restarts in a container,
// so alerts group by these instead (examples/alerting/). `service` is the
// executable's name, `container` the container id found in the process's
// cgroup, and extra labels come from the daemon (--label k=v) and from the
// process itself (LEAKSCOPE_LABELS="k=v,k=v", carried in its Hello).
#pragma once

#include <string>
#include <vector>

namespace leakscope::collector {

struct Label {
  std::string name, value;
  bool operator==(const Label& o) const { return name == o.name && value == o.value; }
};

// Bounds on what a process may ask for (it is a client, hence hostile).
inline constexpr size_t kMaxProcessLabels = 16;
inline constexpr size_t kMaxLabelName = 64;
inline constexpr size_t kMaxLabelValue = 256;

// A Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*) that is not reserved:
// not "__..." and none of pid, exe, container, site, site_id, which the
// daemon sets. `service` may be given (an interpreter's processes all have
// the exe "python3").
bool ValidLabelName(const std::string& name, std::string* why);

// "--label k=v": false and a one-line *error if it is not one.
bool ParseLabelFlag(const std::string& text, Label* out, std::string* error);

// A Hello's "k=v,k=v": the good pairs, at most kMaxProcessLabels; what was
// left out goes to *dropped, one reason per pair ("" if nothing).
std::vector<Label> ParseProcessLabels(const std::string& text, std::string* dropped);

// The container id (its first 12 hex digits, as `docker ps` shows it) in
// /proc/PID/cgroup's text: the last path component that is 64 hex digits,
// bare (cgroup v1 /docker/ID, kubepods .../ID) or in a systemd scope
// (docker-ID.scope, cri-containerd-ID.scope, crio-ID.scope,
// libpod-ID.scope). "" when the process is in no container.
std::string ContainerFromCgroup(const std::string& cgroup_text);

// The executable's last path component.
std::string ServiceName(const std::string& exe);

// Daemon labels, then the process's (a process's label of the same name
// replaces the daemon's), sorted by name.
std::vector<Label> MergeLabels(const std::vector<Label>& daemon, const std::vector<Label>& process);

}  // namespace leakscope::collector
