#include "control_client.h"

#include <lz4.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "framing.h"
#include "query_handler.h"

namespace leakscope::collector {
namespace {

constexpr uint32_t kMaxReplyBytes = 1u << 20;  // a control Reply is a path or an error

void AppendU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>(v >> (8 * i)));
}

// The stream header and one frame holding `message`.
std::string Encode(const wire::Message& message) {
  std::string out(wire::kStreamMagic, sizeof wire::kStreamMagic);
  AppendU32(&out, wire::kProtocolVersion);
  const std::string raw = message.SerializeAsString();
  std::string block(static_cast<size_t>(LZ4_compressBound(static_cast<int>(raw.size()))), '\0');
  const int n = LZ4_compress_default(raw.data(), block.data(), static_cast<int>(raw.size()),
                                     static_cast<int>(block.size()));
  AppendU32(&out, static_cast<uint32_t>(n));
  AppendU32(&out, static_cast<uint32_t>(raw.size()));
  out.append(block.data(), static_cast<size_t>(n));
  return out;
}

// Reads exactly `size` bytes before `deadline`. False + *error otherwise.
bool ReadExactly(int fd, char* out, size_t size, std::chrono::steady_clock::time_point deadline,
                 std::string* error) {
  size_t done = 0;
  while (done < size) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || poll(&p, 1, static_cast<int>(left.count())) == 0) {
      *error = "no answer in time";
      return false;
    }
    const ssize_t n = read(fd, out + done, size - done);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) {
      *error = n == 0 ? "it closed the connection without an answer (is our uid allowed?)"
                      : std::string("read: ") + std::strerror(errno);
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

int Connect(const std::string& path, std::string* error) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    *error = "socket path '" + path + "' is empty or too long";
    return -1;
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) return fd;
  *error = "no leakscoped listening on " + path + ": " + std::strerror(errno);
  close(fd);
  return -1;
}

}  // namespace

std::optional<wire::Reply> SendControl(const std::string& socket_path, const wire::Control& control,
                                       int timeout_ms, std::string* error) {
  const int fd = Connect(socket_path, error);
  if (fd < 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  wire::Message message;
  *message.mutable_control() = control;
  std::optional<wire::Reply> reply;
  char size_bytes[4];
  std::string why;
  if (!WriteFully(fd, Encode(message), timeout_ms)) {
    why = "cannot send the request";
  } else if (ReadExactly(fd, size_bytes, 4, deadline, &why)) {
    uint32_t size = 0;
    for (int i = 0; i < 4; ++i)
      size |= uint32_t(static_cast<unsigned char>(size_bytes[i])) << (8 * i);
    std::string body(size, '\0');
    if (size > kMaxReplyBytes) {
      why = "an answer of " + std::to_string(size) + " bytes is too long";
    } else if (ReadExactly(fd, body.data(), size, deadline, &why)) {
      reply.emplace();
      if (!reply->ParseFromString(body)) reply.reset(), why = "an answer that does not parse";
    }
  }
  close(fd);
  if (!reply) *error = "leakscoped on " + socket_path + ": " + why;
  return reply;
}

}  // namespace leakscope::collector
