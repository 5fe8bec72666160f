// A fresh directory only we can use (mode 0700), for the collector's socket:
// no other user can connect to it or swap it. Removed with its contents.
#pragma once

#include <string>

namespace leakscope::viewer {

class PrivateDir {
 public:
  PrivateDir() = default;
  ~PrivateDir();
  PrivateDir(const PrivateDir&) = delete;
  PrivateDir& operator=(const PrivateDir&) = delete;

  // Creates "$TMPDIR/leakscope.XXXXXX" (or under /tmp). False + *error on failure.
  bool Create(std::string* error);

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace leakscope::viewer
