#include "memory_pressure.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace leakscope::collector {

int OpenPressureTrigger(const std::string& file, uint32_t stall_ms, std::string* error) {
  const int fd = open(file.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    *error = file + ": " + std::strerror(errno);
    return -1;
  }
  const std::string trigger = "some " + std::to_string(uint64_t{stall_ms} * 1000) + " " +
                              std::to_string(uint64_t{kPressureWindowMs} * 1000);
  // The trailing NUL is part of what the kernel expects to parse.
  if (write(fd, trigger.c_str(), trigger.size() + 1) < 0) {
    *error = file + ": cannot arm a trigger '" + trigger + "': " + std::strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

std::string PressureFileFor(const std::string& cgroup_dir) {
  if (!cgroup_dir.empty()) {
    const std::string own = cgroup_dir + "/memory.pressure";
    if (access(own.c_str(), W_OK) == 0) return own;
  }
  return kSystemPressureFile;
}

PressureTriggers::~PressureTriggers() {
  for (auto& [file, t] : triggers_) close(t.fd);
}

int PressureTriggers::Acquire(const std::string& file, bool* opened, std::string* error) {
  *opened = false;
  auto it = triggers_.find(file);
  if (it == triggers_.end()) {
    const int fd = OpenPressureTrigger(file, stall_ms_, error);
    if (fd < 0) return -1;
    it = triggers_.emplace(file, Trigger{fd, 0}).first;
    *opened = true;
  }
  ++it->second.users;
  return it->second.fd;
}

int PressureTriggers::Release(const std::string& file) {
  auto it = triggers_.find(file);
  if (it == triggers_.end() || --it->second.users > 0) return -1;
  const int fd = it->second.fd;
  close(fd);
  triggers_.erase(it);
  return fd;
}

}  // namespace leakscope::collector
