#include "output_dir.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace leakscope::viewer {
namespace {

// mkdir -p with mode 0700 for what it creates. Another process making the
// same folder at the same time is not an error (EEXIST).
bool MakeDirs(const std::string& dir, std::string* error) {
  for (size_t slash = dir.find('/', 1);; slash = dir.find('/', slash + 1)) {
    const std::string prefix = dir.substr(0, slash);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      *error = "cannot create output directory '" + dir + "': " + std::strerror(errno);
      return false;
    }
    if (slash == std::string::npos) return true;
  }
}

}  // namespace

bool EnsureOutputDir(const std::string& dir, std::string* error) {
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) {
      *error = "output directory '" + dir + "': " + std::strerror(errno);
      return false;
    }
    if (!MakeDirs(dir, error)) return false;
    if (stat(dir.c_str(), &st) != 0) {
      *error = "output directory '" + dir + "': " + std::strerror(errno);
      return false;
    }
  }
  if (!S_ISDIR(st.st_mode)) {
    *error = "output directory '" + dir + "' is not a directory";
  } else if (access(dir.c_str(), W_OK | X_OK) != 0) {
    *error = "output directory '" + dir + "' is not writable";
  }
  return error->empty();
}

}  // namespace leakscope::viewer
