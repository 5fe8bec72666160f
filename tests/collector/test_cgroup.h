// A real memory cgroup with a limit for a test program: cgroup v2 where the
// root's memory controller can be given to a child (a VM or host with a
// writable /sys/fs/cgroup), else cgroup v1's memory hierarchy where it is
// mounted (this project's CI sandbox: v1 memory, v2 without it). Needs root.
// Removed by the destructor, once the processes in it are gone.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>

#include "cgroup_memory.h"

namespace leakscope::testing {

class TestCgroup {
 public:
  // nullptr + *why if the machine gives no writable memory cgroup.
  static std::unique_ptr<TestCgroup> Create(uint64_t limit_bytes, std::string* why) {
    const collector::CgroupMounts& mounts = collector::SystemCgroupMounts();
    const std::string name = "/leakscope-test-" + std::to_string(getpid());
    if (mounts.v2 && Has(mounts.v2->point + "/cgroup.controllers", "memory") &&
        Write(mounts.v2->point + "/cgroup.subtree_control", "+memory")) {
      auto cg = Make(mounts.v2->point + name, "/memory.max", limit_bytes, 2);
      if (cg) return cg;
    }
    if (mounts.v1_memory) {
      auto cg = Make(mounts.v1_memory->point + name, "/memory.limit_in_bytes", limit_bytes, 1);
      if (cg) return cg;
    }
    *why = "no memory cgroup can be made here (v2 " +
           std::string(mounts.v2 ? mounts.v2->point : "not mounted") + ", v1 memory " +
           (mounts.v1_memory ? mounts.v1_memory->point : "not mounted") +
           "): needs root and a writable /sys/fs/cgroup";
    return nullptr;
  }
  ~TestCgroup() { rmdir(dir_.c_str()); }

  const std::string& dir() const { return dir_; }
  int version() const { return version_; }
  // For a child between fork and exec: "0" written there moves the writer.
  std::string procs() const { return dir_ + "/cgroup.procs"; }

 private:
  TestCgroup(std::string dir, int version) : dir_(std::move(dir)), version_(version) {}

  static std::unique_ptr<TestCgroup> Make(const std::string& dir, const char* limit_file,
                                          uint64_t limit, int version) {
    if (mkdir(dir.c_str(), 0755) != 0) return nullptr;
    std::unique_ptr<TestCgroup> cg(new TestCgroup(dir, version));
    if (!Write(dir + limit_file, std::to_string(limit))) return nullptr;
    return cg;
  }
  static bool Write(const std::string& path, const std::string& text) {
    const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    const bool ok = fd >= 0 && write(fd, text.data(), text.size()) == ssize_t(text.size());
    if (fd >= 0) close(fd);
    return ok;
  }
  static bool Has(const std::string& path, const std::string& word) {
    std::ifstream in(path);
    for (std::string w; in >> w;)
      if (w == word) return true;
    return false;
  }

  std::string dir_;
  int version_;
};

}  // namespace leakscope::testing
