// The memory limit a traced process lives under, read from its cgroup, for
// the daemon's dumps before an OOM kill (docs/leakscoped.md, "Dumps before
// the kill"). /proc/PID/cgroup names the process's cgroup in each hierarchy;
// the daemon's /proc/self/mountinfo says where those are mounted. cgroup v2:
// memory.max and memory.current; v1 (the memory controller's own hierarchy):
// memory.limit_in_bytes and memory.usage_in_bytes. Every level from the
// process's cgroup up to the mount's root may set a limit: the level nearest
// its limit (highest usage / limit) is where the kernel's OOM killer acts first.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

namespace leakscope::collector {

// Where a hierarchy is mounted: `root` is the cgroup path the mount shows at
// `point` ("/" unless the mount is of a sub-tree, as in some containers).
struct CgroupMount {
  std::string root;
  std::string point;
};

struct CgroupMounts {
  std::optional<CgroupMount> v2;         // cgroup2 (unified)
  std::optional<CgroupMount> v1_memory;  // cgroup v1 with the memory controller
};

// From the text of /proc/self/mountinfo.
CgroupMounts ParseMountInfo(const std::string& text);
// The daemon's own, read once.
const CgroupMounts& SystemCgroupMounts();

// A process's cgroup paths, from the text of /proc/PID/cgroup.
struct ProcCgroups {
  std::optional<std::string> v2;         // the "0::PATH" line
  std::optional<std::string> v1_memory;  // the line whose controllers include memory
};
ProcCgroups ParseProcCgroup(const std::string& text);

struct MemoryLimit {
  std::string dir;      // the cgroup directory that sets the limit
  int version = 0;      // 1 or 2
  uint64_t limit = 0;   // bytes
  uint64_t usage = 0;   // bytes charged to that cgroup now
  std::string own_dir;  // the process's own cgroup directory (its OOM kill count)
};

// The directory of the process's cgroup under `mount`, or "" if the path is
// outside what the mount shows.
std::string CgroupDir(const CgroupMount& mount, const std::string& path);

// The level nearest its limit from `own_dir` up to `mount_point`, reading
// the version's files; nullopt if no level sets a limit (v2 "max", v1's
// "unlimited" of 2^63 - a page).
std::optional<MemoryLimit> NearestLimit(const std::string& own_dir, const std::string& mount_point,
                                        int version);

// The limit of process `pid` (as /proc names it for the daemon): v2 first,
// then v1's memory hierarchy. nullopt if it has none or it cannot be read.
std::optional<MemoryLimit> ReadMemoryLimit(const CgroupMounts& mounts, pid_t pid);

// A cgroup directory with the memory controller, and its hierarchy's version.
struct MemoryCgroup {
  std::string dir;
  int version = 0;
};
// The process's own memory cgroup: v2 if the controller is on there
// (memory.events exists), else v1's; nullopt if neither.
std::optional<MemoryCgroup> OwnMemoryCgroup(const CgroupMounts& mounts, pid_t pid);

// OOM kills counted in `cgroup` (v2 memory.events, v1 memory.oom_control:
// "oom_kill N"); 0 if unreadable.
uint64_t OomKills(const MemoryCgroup& cgroup);

// The process's v2 cgroup directory, for its memory.pressure; "" if none.
std::string V2CgroupDir(const CgroupMounts& mounts, pid_t pid);

}  // namespace leakscope::collector
