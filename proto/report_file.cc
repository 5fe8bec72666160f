#include "report_file.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace leakscope::report {
namespace {

void PutU32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
void PutU64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}
uint64_t GetU64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

uint32_t Crc32(const std::string& s) {
  uLong crc = crc32(0L, Z_NULL, 0);
  size_t off = 0;
  while (off < s.size()) {  // zlib's crc32 takes a uInt length
    uInt n = static_cast<uInt>(std::min<size_t>(s.size() - off, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(s.data() + off), n);
    off += n;
  }
  return static_cast<uint32_t>(crc);
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

bool WriteReportFile(const std::string& path, const Report& report, std::string* error) {
  std::string payload;
  if (!report.SerializeToString(&payload)) {
    *error = path + ": cannot serialize report";
    return false;
  }
  char header[kReportHeaderSize] = {'L', 'S', 'K', 'R'};
  PutU32(header + 4, kReportFormatVersion);
  PutU64(header + 8, payload.size());
  PutU32(header + 16, Crc32(payload));
  PutU32(header + 20, 0);
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *error = path + ": cannot create: " + std::strerror(errno);
    return false;
  }
  bool ok = WriteAll(fd, header, sizeof header) && WriteAll(fd, payload.data(), payload.size());
  ok = (fsync(fd) == 0) && ok;
  int saved = errno;
  close(fd);
  if (!ok || rename(tmp.c_str(), path.c_str()) != 0) {
    if (ok) saved = errno;
    unlink(tmp.c_str());
    *error = path + ": cannot write: " + std::strerror(saved);
    return false;
  }
  return true;
}

bool ReadReportFile(const std::string& path, Report* report, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot open: " + std::strerror(errno);
    return false;
  }
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string data = buf.str();
  if (data.size() < kReportHeaderSize || std::memcmp(data.data(), "LSKR", 4) != 0) {
    *error = path + ": not a leakscope report (bad header)";
    return false;
  }
  uint32_t version = GetU32(data.data() + 4);
  if (version != kReportFormatVersion) {
    *error = path + ": unsupported report format version " + std::to_string(version);
    return false;
  }
  uint64_t size = GetU64(data.data() + 8);
  if (size != data.size() - kReportHeaderSize) {
    *error = path + ": truncated or padded (expected " + std::to_string(size + kReportHeaderSize) +
             " bytes, found " + std::to_string(data.size()) + ")";
    return false;
  }
  std::string payload = data.substr(kReportHeaderSize);
  if (Crc32(payload) != GetU32(data.data() + 16)) {
    *error = path + ": corrupt (checksum mismatch)";
    return false;
  }
  if (!report->ParseFromString(payload)) {
    *error = path + ": corrupt (cannot decode report)";
    return false;
  }
  return true;
}

}  // namespace leakscope::report
