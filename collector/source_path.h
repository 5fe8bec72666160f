// Source file names as a reader wants them: DWARF joins a build's relative
// names with its compilation directory, which gives
// /src/build/tests/../../src/a.cc for a build that passed relative paths
// (Ninja, ccache's base_dir). The report shows /src/src/a.cc.
#pragma once

#include <string>
#include <vector>

namespace leakscope::collector {

// Lexical cleaning, as Go's path.Clean: "." and empty parts go, "x/.." goes.
// Symlinks are not consulted (the build machine's tree is usually not here).
// A relative path keeps the ".." it cannot resolve.
inline std::string CleanSourcePath(const std::string& path) {
  if (path.empty()) return path;
  const bool absolute = path[0] == '/';
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == ".." && !parts.empty() && parts.back() != "..") {
      parts.pop_back();
    } else if (part != ".." || !absolute) {
      parts.push_back(std::move(part));  // "/.." is "/"
    }
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? "/" : "") + parts[i];
  return out.empty() ? "." : out;
}

}  // namespace leakscope::collector
