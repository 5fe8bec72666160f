#include "shim_locator.h"

#include <limits.h>
#include <unistd.h>

#include <cstdlib>

#ifndef LEAKSCOPE_INSTALLED_SHIM
#error "LEAKSCOPE_INSTALLED_SHIM must be defined by the build"
#endif

namespace leakscope::viewer {
namespace {

bool IsReadableFile(const std::string& path) {
  return access(path.c_str(), R_OK) == 0;
}

std::string NextToExecutable(const std::string& self_exe) {
  const size_t slash = self_exe.rfind('/');
  if (slash == std::string::npos) return "";
  return self_exe.substr(0, slash) + "/../lib/libleakscope.so";
}

// ld.so splits LD_PRELOAD at spaces and colons: such a path cannot be preloaded.
bool Preloadable(const std::string& path) {
  return path.find_first_of(" :") == std::string::npos;
}

}  // namespace

ShimSearch CurrentShimSearch() {
  ShimSearch search;
  search.env_value = std::getenv("LEAKSCOPE_PRELOAD");
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) search.self_exe.assign(buf, static_cast<size_t>(n));
  search.installed = LEAKSCOPE_INSTALLED_SHIM;
  return search;
}

bool LocateShim(const ShimSearch& search, std::string* path, std::string* error) {
  std::string found;
  if (search.env_value != nullptr) {
    if (!IsReadableFile(search.env_value)) {
      *error = std::string("LEAKSCOPE_PRELOAD='") + search.env_value + "' is not a readable file";
      return false;
    }
    found = search.env_value;
  } else if (const std::string near = NextToExecutable(search.self_exe);
             !near.empty() && IsReadableFile(near)) {
    found = near;
  } else if (IsReadableFile(search.installed)) {
    found = search.installed;
  } else {
    *error = "cannot find libleakscope.so (looked in '" + NextToExecutable(search.self_exe) +
             "' and '" + search.installed + "'); set LEAKSCOPE_PRELOAD to its path";
    return false;
  }
  if (!Preloadable(found)) {
    *error = "cannot preload '" + found + "': LD_PRELOAD paths cannot contain spaces or colons";
    return false;
  }
  *path = found;
  return true;
}

}  // namespace leakscope::viewer
