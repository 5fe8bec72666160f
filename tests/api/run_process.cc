#include "run_process.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>

extern char** environ;

namespace leakscope::api_testing {
namespace {

std::vector<std::string> MergedEnvironment(const std::vector<std::string>& changes) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  for (const std::string& change : changes) {
    const std::string name = change.substr(0, change.find('=') + 1);
    std::vector<std::string> kept;
    for (const std::string& e : env)
      if (e.compare(0, name.size(), name) != 0) kept.push_back(e);
    if (change.size() > name.size()) kept.push_back(change);
    env = std::move(kept);
  }
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int ShellStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// Child side of a fork: output to `out_fd`, then exec (as `uid`/`gid` if
// given). Never returns.
[[noreturn]] void Exec(std::vector<std::string> argv, std::vector<std::string> env, int out_fd,
                       uid_t uid = uid_t(-1), gid_t gid = gid_t(-1)) {
  if (out_fd >= 0) {
    dup2(out_fd, 1);
    dup2(out_fd, 2);
  }
  if (uid != uid_t(-1) && (setgroups(0, nullptr) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) {
    std::fprintf(stderr, "cannot become uid %u gid %u: %s\n", unsigned(uid), unsigned(gid),
                 std::strerror(errno));
    _exit(126);
  }
  std::vector<char*> args = Pointers(argv), envp = Pointers(env);
  execve(args[0], args.data(), envp.data());
  std::fprintf(stderr, "exec %s: %s\n", args[0], std::strerror(errno));
  _exit(127);
}

}  // namespace

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env) {
  return RunProcessAs(uid_t(-1), gid_t(-1), argv, env);
}

ProcessResult RunProcessAs(uid_t uid, gid_t gid, const std::vector<std::string>& argv,
                           const std::vector<std::string>& env) {
  ProcessResult result;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return result;
  std::vector<std::string> merged = MergedEnvironment(env);
  const pid_t pid = fork();
  if (pid == 0) Exec(argv, merged, fds[1], uid, gid);
  close(fds[1]);
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    result.output.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  int status = 0;
  if (pid > 0 && waitpid(pid, &status, 0) == pid) result.exit_status = ShellStatus(status);
  return result;
}

// Waits for the daemon's "listening" line on its stderr: the socket exists then.
Daemon::Daemon(const std::string& leakscoped, const std::vector<std::string>& extra_args,
               const std::string& socket_name)
    : socket_name_(socket_name) {
  char tmpl[] = "/tmp/leakscope-daemon-XXXXXX";
  if (!mkdtemp(tmpl)) return;
  dir_ = tmpl;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return;
  std::vector<std::string> merged = MergedEnvironment({});
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 2);
    std::vector<std::string> args = {leakscoped, "--socket", socket(), "--output", dir_};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    Exec(args, merged, -1);
  }
  close(fds[1]);
  char c;
  while (said_.find("listening") == std::string::npos && read(fds[0], &c, 1) == 1) said_ += c;
  close(fds[0]);  // later lines go nowhere: leakscoped ignores EPIPE on stderr
  if (said_.find("listening") != std::string::npos) {
    pid_ = pid;
  } else if (pid > 0) {
    waitpid(pid, nullptr, 0);
  }
}

void Daemon::Stop() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  pid_ = -1;
}

Daemon::~Daemon() {
  Stop();
  if (!dir_.empty()) RunProcess({"/bin/rm", "-rf", dir_});
}

ScratchDir::ScratchDir() {
  char tmpl[] = "/tmp/leakscope-test-XXXXXX";
  if (mkdtemp(tmpl)) path_ = tmpl;
}

ScratchDir::~ScratchDir() {
  if (!path_.empty()) RunProcess({"/bin/rm", "-rf", path_});
}

std::vector<std::string> FilesEndingWith(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() >= suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
        names.push_back(name);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> LinesWith(const std::string& text, const std::string& needle) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (line.find(needle) != std::string::npos) out.push_back(line);
  return out;
}

}  // namespace leakscope::api_testing
