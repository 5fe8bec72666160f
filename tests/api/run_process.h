// Runs a program to completion and captures what it printed, for tests that
// drive real binaries (test suites under the shim, installed packages).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace leakscope::api_testing {

struct ProcessResult {
  int exit_status = -1;  // as a shell reports it: 128+N if killed by signal N
  std::string output;    // stdout and stderr, interleaved
};

// `argv[0]` is a path. `env` entries "NAME=value" replace ours; "NAME=" with
// nothing after it removes NAME.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {});

// The same, as another user: the child drops its groups and takes `uid` and
// `gid` before exec (the caller must be root). Exit status 126 with a line
// saying why if it cannot.
ProcessResult RunProcessAs(uid_t uid, gid_t gid, const std::vector<std::string>& argv,
                           const std::vector<std::string>& env = {});

// The collector daemon on a socket in a fresh directory, for LD_PRELOAD runs;
// stopped (SIGTERM, waited for) by the destructor. `extra_args` follow
// "--socket <dir>/<socket_name> --output <dir>" (a later --output wins).
class Daemon {
 public:
  explicit Daemon(const std::string& leakscoped, const std::vector<std::string>& extra_args = {},
                  const std::string& socket_name = "socket");
  ~Daemon();
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;
  bool ok() const { return pid_ > 0; }
  // SIGTERM and wait: every open stream's report is written by then.
  void Stop();
  const std::string& dir() const { return dir_; }
  std::string socket() const { return dir_ + "/" + socket_name_; }
  pid_t pid() const { return pid_; }
  // What it said on stderr up to its "listening" line (all of it if it never listened).
  const std::string& said() const { return said_; }

 private:
  std::string dir_;
  std::string socket_name_;
  std::string said_;
  int pid_ = -1;
};

// A fresh directory under /tmp; removed (recursively) by the destructor.
class ScratchDir {
 public:
  ScratchDir();
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Names in `dir` that end with `suffix`, sorted.
std::vector<std::string> FilesEndingWith(const std::string& dir, const std::string& suffix);

// Lines of `text` that contain `needle`.
std::vector<std::string> LinesWith(const std::string& text, const std::string& needle);

}  // namespace leakscope::api_testing
