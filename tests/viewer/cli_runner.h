// Runs the built `leakscope` binary and captures what it did.
#pragma once

#include <string>
#include <vector>

namespace leakscope::viewer::testing {

struct CliResult {
  int exit_status = -1;  // as a shell reports it: 128+N if killed by signal N
  std::string out;
  std::string err;
};

// Runs LEAKSCOPE_BIN with `args`, in our environment plus `extra_env`
// ("NAME=value", replacing a variable of the same name).
CliResult RunLeakscope(const std::vector<std::string>& args,
                       const std::vector<std::string>& extra_env = {});

// Runs `program` (a path) the same way.
CliResult RunProgram(const std::string& program, const std::vector<std::string>& args,
                     const std::vector<std::string>& extra_env = {});

// A fresh directory under /tmp, removed with its files (not subdirectories).
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::vector<std::string> Files() const;  // names, sorted

 private:
  std::string path_;
};

std::string ReadFile(const std::string& path);
void WriteFile(const std::string& path, const std::string& data);

}  // namespace leakscope::viewer::testing
