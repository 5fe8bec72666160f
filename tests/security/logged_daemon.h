// leakscoped as the abuse tests need it: everything it logs kept (a thread
// drains its stderr), optionally a low RLIMIT_NOFILE set before exec, and
// its figures from /proc (CPU time, peak RSS). OpenTo() gives the flags that
// let the second uid connect.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "run_process.h"
#include "second_uid.h"

extern char** environ;

namespace leakscope::security {

// --allow-uid and --socket-group for `who` (the second uid), then `more`.
inline std::vector<std::string> OpenTo(const SecondUid& who, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--allow-uid", std::to_string(who.uid), "--socket-group",
                                   kSecondUser};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

class LoggedDaemon {
 public:
  // `extra_args` follow "--socket <dir>/socket --output <dir>"; `max_fds`
  // (0: inherited) is the daemon's RLIMIT_NOFILE.
  explicit LoggedDaemon(const std::vector<std::string>& extra_args, rlim_t max_fds = 0) {
    char tmpl[] = "/tmp/leakscope-abuse-XXXXXX";
    if (!mkdtemp(tmpl)) return;
    dir_ = tmpl;
    chmod(dir_.c_str(), 0711);  // the second uid reaches the socket, cannot list
    std::vector<std::string> args = {LEAKSCOPED_PATH, "--socket", socket(), "--output", dir_};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    const pid_t pid = fork();
    if (pid == 0) {  // only system calls: the test may have threads
      dup2(fds[1], 2);
      const rlimit limit{max_fds, max_fds};
      if (max_fds != 0 && setrlimit(RLIMIT_NOFILE, &limit) != 0) _exit(126);
      execve(argv[0], argv.data(), environ);
      _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
      close(fds[0]);
      return;
    }
    pid_ = pid;
    drain_ = std::thread([this, fd = fds[0]] {
      char buf[65536];
      for (ssize_t n; (n = read(fd, buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) break;
        std::lock_guard<std::mutex> lock(mu_);
        log_.append(buf, size_t(n));
        said_.notify_all();
      }
      close(fd);
      std::lock_guard<std::mutex> lock(mu_);
      eof_ = true;
      said_.notify_all();
    });
    listening_ = WaitForLog("leakscoped: listening on", std::chrono::seconds(30));
  }

  ~LoggedDaemon() {
    Stop();
    if (!dir_.empty()) api_testing::RunProcess({"/bin/rm", "-rf", dir_});
  }
  LoggedDaemon(const LoggedDaemon&) = delete;
  LoggedDaemon& operator=(const LoggedDaemon&) = delete;

  bool ok() const { return listening_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }
  std::string socket() const { return dir_ + "/socket"; }

  // SIGTERM, wait: every open stream's report is written by then, and the
  // log is whole.
  void Stop() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
    if (drain_.joinable()) drain_.join();
  }

  std::string log() {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }

  // True once the log holds `needle` `times` times; false after `timeout`
  // or if the daemon's stderr closed first.
  bool WaitForLog(const std::string& needle, std::chrono::seconds timeout, size_t times = 1) {
    std::unique_lock<std::mutex> lock(mu_);
    return said_.wait_for(lock, timeout, [&] { return Count(log_, needle) >= times || eof_; }) &&
           Count(log_, needle) >= times;
  }

  static size_t Count(const std::string& text, const std::string& needle) {
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
      ++n;
    return n;
  }

  // User + system CPU time so far, in clock ticks (/proc/PID/stat).
  uint64_t CpuTicks() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    // Fields after the command (which may hold spaces) in parentheses: state is
    // field 3, utime 14, stime 15.
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string field;
    uint64_t utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
      if (i == 14) utime = std::stoull(field);
      if (i == 15) stime = std::stoull(field);
    }
    return utime + stime;
  }

  // A line of /proc/PID/status in KiB ("VmHWM", "VmRSS"); 0 if not there.
  uint64_t StatusKiB(const std::string& name) const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(in, line);)
      if (line.compare(0, name.size() + 1, name + ":") == 0)
        return std::stoull(line.substr(name.size() + 1));
    return 0;
  }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  bool listening_ = false;
  std::thread drain_;
  std::mutex mu_;
  std::condition_variable said_;
  std::string log_;
  bool eof_ = false;
};

}  // namespace leakscope::security
