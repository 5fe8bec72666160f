// A traced process's stream sent by a hostile local user: a forked child
// takes the second uid, connects to the daemon's socket, sends the stream
// and, if asked, hands back the daemon's reply to its query. What a client
// built on the wire format could do, without the shim's manners.
#pragma once

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "second_uid.h"
#include "wire.pb.h"

namespace leakscope::security {

struct ClientResult {
  bool connected = false;
  bool replied = false;
  wire::Reply reply;
};

// Sends `stream` to `socket` as `who`; reads one reply if `want_reply`, then
// closes the stream.
inline ClientResult SendAs(const SecondUid& who, const std::string& socket_path,
                           const std::string& stream, bool want_reply) {
  ClientResult result;
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return result;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  const pid_t pid = fork();
  if (pid == 0) {  // only system calls from here: the test process may have threads
    if (setgroups(0, nullptr) != 0 || setgid(who.gid) != 0 || setuid(who.uid) != 0) _exit(3);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(4);
    for (size_t done = 0; done < stream.size();) {
      const ssize_t n = write(fd, stream.data() + done, stream.size() - done);
      if (n <= 0) _exit(5);
      done += size_t(n);
    }
    char buf[65536];
    size_t got = 0;
    uint32_t size = 0;  // the reply is u32 size + body: stop once it is all here
    for (ssize_t n; want_reply && (n = read(fd, buf, sizeof buf)) > 0;) {
      if (write(out[1], buf, size_t(n)) != n) _exit(6);
      got += size_t(n);
      if (got == size_t(n) && got >= 4)
        size = uint32_t(uint8_t(buf[0])) | uint32_t(uint8_t(buf[1])) << 8 |
               uint32_t(uint8_t(buf[2])) << 16 | uint32_t(uint8_t(buf[3])) << 24;
      if (got >= 4 && got >= 4 + size) break;
    }
    close(fd);
    _exit(0);
  }
  close(out[1]);
  std::string bytes;
  char buf[65536];
  for (ssize_t n; (n = read(out[0], buf, sizeof buf)) > 0;) bytes.append(buf, size_t(n));
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the hostile client failed (3: setuid, 4: connect, 5: write, 6: pipe): status " << status;
  result.connected = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (bytes.size() >= 4) {
    const uint32_t n = uint32_t(uint8_t(bytes[0])) | uint32_t(uint8_t(bytes[1])) << 8 |
                       uint32_t(uint8_t(bytes[2])) << 16 | uint32_t(uint8_t(bytes[3])) << 24;
    result.replied = bytes.size() == 4 + size_t(n) && result.reply.ParseFromString(bytes.substr(4));
  }
  return result;
}

}  // namespace leakscope::security
