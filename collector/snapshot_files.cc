#include "snapshot_files.h"

#include <unistd.h>

namespace leakscope::collector {

std::string ExeBasename(const std::string& exe) {
  const size_t slash = exe.rfind('/');
  std::string base = exe.substr(slash == std::string::npos ? 0 : slash + 1);
  if (base.empty() || base == "." || base == "..") base = "unknown";
  return base;
}

std::string FinalReportPath(const std::string& dir, const std::string& exe, uint32_t pid,
                            std::unordered_set<std::string>* used) {
  const std::string stem = dir + "/" + ExeBasename(exe) + "." + std::to_string(pid);
  std::string path = stem + ".lsr";
  for (int n = 2; !used->insert(path).second; ++n) path = stem + "." + std::to_string(n) + ".lsr";
  return path;
}

std::string SnapshotPath(const std::string& dir, const std::string& exe, uint32_t pid,
                         uint64_t unix_seconds) {
  const std::string stem = dir + "/" + ExeBasename(exe) + "." + std::to_string(pid) + ".snap-" +
                           std::to_string(unix_seconds);
  std::string path = stem + ".lsr";
  for (int n = 2; access(path.c_str(), F_OK) == 0; ++n)
    path = stem + "-" + std::to_string(n) + ".lsr";
  return path;
}

size_t KeepNewest(std::deque<std::string>* snapshots, const std::string& path, size_t keep) {
  snapshots->push_back(path);
  size_t deleted = 0;
  while (keep != 0 && snapshots->size() > keep) {
    if (unlink(snapshots->front().c_str()) == 0) ++deleted;
    snapshots->pop_front();
  }
  return deleted;
}

}  // namespace leakscope::collector
