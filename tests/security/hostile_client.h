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
#include <vector>

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

// Connects to `socket` once per stream as `who`, writes the stream, closes it;
// one after the other, from one process. Returns how many were written whole.
inline size_t SendEachAs(const SecondUid& who, const std::string& socket_path,
                         const std::vector<std::string>& streams) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return 0;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
  const pid_t pid = fork();
  if (pid == 0) {  // only system calls from here: the test process may have threads
    if (setgroups(0, nullptr) != 0 || setgid(who.gid) != 0 || setuid(who.uid) != 0) _exit(3);
    uint32_t sent = 0;
    for (const std::string& stream : streams) {
      const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) _exit(4);
      size_t done = 0;
      for (ssize_t n; done < stream.size() &&
                      (n = send(fd, stream.data() + done, stream.size() - done, MSG_NOSIGNAL)) > 0;)
        done += size_t(n);
      sent += done == stream.size();
      close(fd);
    }
    if (write(out[1], &sent, sizeof sent) != sizeof sent) _exit(6);
    _exit(0);
  }
  close(out[1]);
  uint32_t sent = 0;
  if (read(out[0], &sent, sizeof sent) != sizeof sent) sent = 0;
  close(out[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
      << "the hostile client failed (3: setuid, 4: connect, 6: pipe): status " << status;
  return sent;
}

// `count` connections to `socket` as `who`, each sent `bytes` (as much of
// them as the daemon takes: it may close a connection first), then held open
// (not read, not closed) until the object is destroyed or Release()d.
class HeldConnections {
 public:
  HeldConnections(const SecondUid& who, const std::string& socket_path, size_t count,
                  const std::string& bytes) {
    int ready[2], hold[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(hold, O_CLOEXEC) != 0) return;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    pid_ = fork();
    if (pid_ == 0) {  // only system calls from here
      close(hold[1]);
      if (setgroups(0, nullptr) != 0 || setgid(who.gid) != 0 || setuid(who.uid) != 0) _exit(3);
      uint32_t connected = 0;
      for (size_t i = 0; i < count; ++i) {
        const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) break;
        ++connected;
        for (ssize_t n, done = 0;
             done < ssize_t(bytes.size()) &&
             (n = send(fd, bytes.data() + done, bytes.size() - size_t(done), MSG_NOSIGNAL)) > 0;)
          done += n;
      }
      if (write(ready[1], &connected, sizeof connected) != sizeof connected) _exit(6);
      char c;
      while (read(hold[0], &c, 1) < 0 && errno == EINTR) {
      }
      _exit(0);  // the kernel closes every connection
    }
    close(ready[1]);
    close(hold[0]);
    hold_ = hold[1];
    if (pid_ > 0 && read(ready[0], &connected_, sizeof connected_) != sizeof connected_)
      connected_ = 0;
    close(ready[0]);
  }
  ~HeldConnections() { Release(); }
  HeldConnections(const HeldConnections&) = delete;
  HeldConnections& operator=(const HeldConnections&) = delete;

  // How many connected.
  size_t connected() const { return connected_; }

  // Closes them all (the holder exits) and waits until it has.
  void Release() {
    if (hold_ >= 0) close(hold_);
    hold_ = -1;
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int hold_ = -1;
  uint32_t connected_ = 0;
};

}  // namespace leakscope::security
