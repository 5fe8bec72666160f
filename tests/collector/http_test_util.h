// Helpers for tests that run leakscoped and real programs and talk HTTP to
// them: spawning with redirected descriptors, a free port, plain HTTP/1.0 on
// loopback, and reading the daemon's metrics port from its stderr.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <string>
#include <vector>

extern char** environ;

namespace leakscope::testing {

inline pid_t Spawn(std::vector<std::string> args, const std::vector<std::string>& extra_env,
                   int stderr_fd = -1, int stdin_fd = -1, int stdout_fd = -1) {
  std::vector<std::string> env = extra_env;
  for (char** e = environ; *e; ++e) env.push_back(*e);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  for (auto& e : env) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
  if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()), 0) << args[0];
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

inline void StopChild(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
}

inline uint16_t FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// `request` sent on loopback; the whole response ("" if none).
inline std::string HttpExchange(uint16_t port, const std::string& request) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string response;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    if (write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size())) {
      char buf[4096];
      ssize_t n;
      while ((n = read(fd, buf, sizeof buf)) > 0) response.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
  return response;
}

// GET on loopback; the body, or "" if the server is not answering yet.
inline std::string HttpGet(uint16_t port, const std::string& target) {
  const std::string response = HttpExchange(
      port, "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  const size_t body = response.find("\r\n\r\n");
  return body == std::string::npos ? "" : response.substr(body + 4);
}

// The number that follows `prefix` in `text` (0 if none).
inline uint64_t NumberAfter(const std::string& text, const std::string& prefix) {
  const size_t at = text.find(prefix);
  if (at == std::string::npos) return 0;
  uint64_t n = 0;
  for (size_t i = at + prefix.size(); i < text.size() && std::isdigit(text[i]); ++i)
    n = n * 10 + uint64_t(text[i] - '0');
  return n;
}

// Reads leakscoped's stderr until it names its metrics port.
inline uint16_t MetricsPort(int fd) {
  std::string text;
  char c;
  const std::string prefix = "metrics on http://127.0.0.1:";
  while (read(fd, &c, 1) == 1) {
    text += c;
    if (c == '\n' && text.find(prefix) != std::string::npos)
      return static_cast<uint16_t>(NumberAfter(text, prefix));
  }
  ADD_FAILURE() << "leakscoped said: " << text;
  return 0;
}

}  // namespace leakscope::testing
