#include "private_dir.h"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace leakscope::viewer {

bool PrivateDir::Create(std::string* error) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ =
      std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/leakscope.XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {  // mkdtemp creates it with mode 0700
    *error = "cannot create a private directory '" + templ + "': " + std::strerror(errno);
    return false;
  }
  path_ = buf.data();
  return true;
}

PrivateDir::~PrivateDir() {
  if (path_.empty()) return;
  // Only our socket lives here; remove whatever the collector left, then the directory.
  if (DIR* dir = opendir(path_.c_str())) {
    while (const dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") unlink((path_ + "/" + name).c_str());
    }
    closedir(dir);
  }
  rmdir(path_.c_str());
}

}  // namespace leakscope::viewer
