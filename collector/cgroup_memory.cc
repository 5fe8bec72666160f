#include "cgroup_memory.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>
#include <vector>

namespace leakscope::collector {
namespace {

// v1 says "no limit" with the largest page-aligned counter, 2^63 - 4096.
constexpr uint64_t kUnlimitedFrom = uint64_t{1} << 62;

// A small kernel file (at most 64 KiB: /proc and cgroup files), "" if unreadable.
std::string ReadSmall(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return "";
  std::string text;
  char buf[4096];
  ssize_t n;
  while (text.size() < (64u << 10) && (n = read(fd, buf, sizeof buf)) > 0)
    text.append(buf, static_cast<size_t>(n));
  close(fd);
  return text;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string oct = s.substr(i + 1, 3);
      if (oct.find_first_not_of("01234567") == std::string::npos) {
        out += static_cast<char>(std::strtol(oct.c_str(), nullptr, 8));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::vector<std::string> Words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

bool HasOption(const std::string& options, const std::string& name) {
  std::istringstream in(options);
  for (std::string o; std::getline(in, o, ',');)
    if (o == name) return true;
  return false;
}

// A byte count as the file holds it; nullopt for "max", unlimited or junk.
std::optional<uint64_t> ReadBytes(const std::string& path) {
  const std::string text = ReadSmall(path);
  if (text.empty() || text[0] < '0' || text[0] > '9') return std::nullopt;
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (end == text.c_str() || v >= kUnlimitedFrom) return std::nullopt;
  return v;
}

// "key N" lines (memory.events, memory.oom_control).
uint64_t KeyValue(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const std::vector<std::string> w = Words(line);
    if (w.size() == 2 && w[0] == key) return std::strtoull(w[1].c_str(), nullptr, 10);
  }
  return 0;
}

}  // namespace

CgroupMounts ParseMountInfo(const std::string& text) {
  CgroupMounts mounts;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    // id parent major:minor root point options [optional...] - fstype source super-options
    const std::vector<std::string> w = Words(line);
    size_t dash = 6;
    while (dash < w.size() && w[dash] != "-") ++dash;
    if (dash + 2 >= w.size()) continue;
    const std::string& type = w[dash + 1];
    const std::string super = dash + 3 < w.size() ? w[dash + 3] : "";
    const CgroupMount m{Unescape(w[3]), Unescape(w[4])};
    if (type == "cgroup2" && !mounts.v2) mounts.v2 = m;
    if (type == "cgroup" && HasOption(super, "memory") && !mounts.v1_memory) mounts.v1_memory = m;
  }
  return mounts;
}

const CgroupMounts& SystemCgroupMounts() {
  static const CgroupMounts mounts = ParseMountInfo(ReadSmall("/proc/self/mountinfo"));
  return mounts;
}

ProcCgroups ParseProcCgroup(const std::string& text) {
  ProcCgroups out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    // hierarchy-id:controllers:path (the path may itself hold ':')
    const size_t a = line.find(':');
    const size_t b = a == std::string::npos ? a : line.find(':', a + 1);
    if (b == std::string::npos) continue;
    const std::string id = line.substr(0, a), controllers = line.substr(a + 1, b - a - 1);
    const std::string path = line.substr(b + 1);
    if (id == "0" && controllers.empty()) out.v2 = path;
    if (HasOption(controllers, "memory")) out.v1_memory = path;
  }
  return out;
}

std::string CgroupDir(const CgroupMount& mount, const std::string& path) {
  if (path.empty() || path[0] != '/') return "";
  if (mount.root == "/") return path == "/" ? mount.point : mount.point + path;
  if (path == mount.root) return mount.point;
  if (path.compare(0, mount.root.size() + 1, mount.root + "/") != 0) return "";
  return mount.point + path.substr(mount.root.size());
}

std::optional<MemoryLimit> NearestLimit(const std::string& own_dir, const std::string& mount_point,
                                        int version) {
  const char* limit_file = version == 2 ? "/memory.max" : "/memory.limit_in_bytes";
  const char* usage_file = version == 2 ? "/memory.current" : "/memory.usage_in_bytes";
  std::optional<MemoryLimit> best;
  for (std::string dir = own_dir; dir.size() >= mount_point.size();) {
    const std::optional<uint64_t> limit = ReadBytes(dir + limit_file);
    const std::optional<uint64_t> usage = limit ? ReadBytes(dir + usage_file) : std::nullopt;
    // usage / limit above best's, compared without dividing.
    if (limit && *limit > 0 && usage &&
        (!best || static_cast<unsigned __int128>(*usage) * best->limit >
                      static_cast<unsigned __int128>(best->usage) * *limit))
      best = MemoryLimit{dir, version, *limit, *usage, own_dir};
    if (dir == mount_point) break;
    const size_t slash = dir.rfind('/');
    if (slash == std::string::npos || slash < mount_point.size()) break;
    dir.resize(slash);
  }
  return best;
}

std::optional<MemoryLimit> ReadMemoryLimit(const CgroupMounts& mounts, pid_t pid) {
  const ProcCgroups cg = ParseProcCgroup(ReadSmall("/proc/" + std::to_string(pid) + "/cgroup"));
  if (mounts.v2 && cg.v2) {
    const std::string dir = CgroupDir(*mounts.v2, *cg.v2);
    if (!dir.empty())
      if (auto limit = NearestLimit(dir, mounts.v2->point, 2)) return limit;
  }
  if (mounts.v1_memory && cg.v1_memory) {
    const std::string dir = CgroupDir(*mounts.v1_memory, *cg.v1_memory);
    if (!dir.empty()) return NearestLimit(dir, mounts.v1_memory->point, 1);
  }
  return std::nullopt;
}

std::optional<MemoryCgroup> OwnMemoryCgroup(const CgroupMounts& mounts, pid_t pid) {
  const ProcCgroups cg = ParseProcCgroup(ReadSmall("/proc/" + std::to_string(pid) + "/cgroup"));
  if (mounts.v2 && cg.v2) {
    const std::string dir = CgroupDir(*mounts.v2, *cg.v2);
    if (!dir.empty() && access((dir + "/memory.events").c_str(), R_OK) == 0)
      return MemoryCgroup{dir, 2};
  }
  if (mounts.v1_memory && cg.v1_memory) {
    const std::string dir = CgroupDir(*mounts.v1_memory, *cg.v1_memory);
    if (!dir.empty()) return MemoryCgroup{dir, 1};
  }
  return std::nullopt;
}

uint64_t OomKills(const MemoryCgroup& cgroup) {
  return KeyValue(
      ReadSmall(cgroup.dir + (cgroup.version == 2 ? "/memory.events" : "/memory.oom_control")),
      "oom_kill");
}

std::string V2CgroupDir(const CgroupMounts& mounts, pid_t pid) {
  const ProcCgroups cg = ParseProcCgroup(ReadSmall("/proc/" + std::to_string(pid) + "/cgroup"));
  if (!mounts.v2 || !cg.v2) return "";
  return CgroupDir(*mounts.v2, *cg.v2);
}

}  // namespace leakscope::collector
