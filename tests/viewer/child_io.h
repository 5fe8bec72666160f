// Child processes for the viewer's end-to-end tests: started with chosen
// descriptors as stdin/stdout/stderr, read line by line.
#pragma once

#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "../collector/http_test_util.h"

namespace leakscope::viewer::testing {

// Starts `args` with the given fds as its stdin/stdout/stderr (-1: ours).
inline pid_t Spawn(std::vector<std::string> args, const std::vector<std::string>& extra_env, int in,
                   int out, int err) {
  return leakscope::testing::Spawn(std::move(args), extra_env, err, in, out);
}

// Reads `fd` until a line containing `text` has arrived; that line.
inline std::string ReadLineWith(int fd, const std::string& text) {
  std::string line;
  char c;
  while (read(fd, &c, 1) == 1) {
    if (c != '\n') {
      line += c;
      continue;
    }
    if (line.find(text) != std::string::npos) return line;
    line.clear();
  }
  return "";
}

}  // namespace leakscope::viewer::testing
