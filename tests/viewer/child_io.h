// Child processes for the viewer's end-to-end tests: started with chosen
// descriptors as stdin/stdout/stderr, read line by line.
#pragma once

#include <gtest/gtest.h>
#include <spawn.h>
#include <unistd.h>

#include <string>
#include <vector>

extern char** environ;

namespace leakscope::viewer::testing {

// Starts `args` with the given fds as its stdin/stdout/stderr (-1: ours).
inline pid_t Spawn(std::vector<std::string> args, const std::vector<std::string>& extra_env, int in,
                   int out, int err) {
  std::vector<std::string> env = extra_env;
  for (char** e = environ; *e; ++e) env.push_back(*e);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  for (auto& e : env) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (in >= 0) posix_spawn_file_actions_adddup2(&actions, in, 0);
  if (out >= 0) posix_spawn_file_actions_adddup2(&actions, out, 1);
  if (err >= 0) posix_spawn_file_actions_adddup2(&actions, err, 2);
  pid_t pid = -1;
  EXPECT_EQ(posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), envp.data()), 0) << args[0];
  posix_spawn_file_actions_destroy(&actions);
  return pid;
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
