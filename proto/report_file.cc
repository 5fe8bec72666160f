#include "report_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/random.h>
#include <sys/stat.h>
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

bool EncodeReportFile(const Report& report, std::string* bytes) {
  std::string payload;
  if (!report.SerializeToString(&payload)) return false;
  char header[kReportHeaderSize] = {'L', 'S', 'K', 'R'};
  PutU32(header + 4, kReportFormatVersion);
  PutU64(header + 8, payload.size());
  PutU32(header + 16, Crc32(payload));
  PutU32(header + 20, 0);
  bytes->assign(header, sizeof header);
  bytes->append(payload);
  return true;
}

namespace {

// Writes `bytes` to a new temporary file beside `path` and returns its name in
// *tmp. Created, never opened: a name planted beforehand (a symlink to a file
// of ours, a file someone else can read) makes us pick another one.
bool WriteTemp(const std::string& path, const std::string& bytes, const FileMode& mode,
               std::string* tmp, std::string* error) {
  int fd = -1;
  for (int attempt = 0; fd < 0 && attempt < 100; ++attempt) {
    *tmp = path + ".tmp." + std::to_string(getpid());
    // Taken: a name nobody can guess, so nobody can plant them all.
    uint64_t random = 0;
    if (attempt > 0 && getrandom(&random, sizeof random, 0) == sizeof random)
      *tmp += "." + std::to_string(random);
    else if (attempt > 0)
      *tmp += "." + std::to_string(attempt);
    fd = open(tmp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
              mode.mode ? 0600 : 0644);
    if (fd < 0 && errno != EEXIST) break;
  }
  if (fd < 0) {
    *error = path + ": cannot create: " + std::strerror(errno);
    return false;
  }
  // An exact mode: the daemon's umask must not decide who may read a report.
  bool ok = (mode.group == static_cast<gid_t>(-1) ||
             fchown(fd, static_cast<uid_t>(-1), mode.group) == 0) &&
            (mode.mode == 0 || fchmod(fd, mode.mode) == 0);
  ok = ok && WriteAll(fd, bytes.data(), bytes.size());
  ok = (!mode.sync || fsync(fd) == 0) && ok;
  const int saved = errno;
  close(fd);
  if (!ok) {
    unlink(tmp->c_str());
    *error = path + ": cannot write: " + std::strerror(saved);
  }
  return ok;
}

// rename() that fails with EEXIST instead of replacing `to`.
int RenameNoReplace(const std::string& from, const std::string& to) {
  if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  // A file system without RENAME_NOREPLACE: link() never replaces either.
  if (link(from.c_str(), to.c_str()) != 0) return -1;
  unlink(from.c_str());
  return 0;
}

}  // namespace

WriteStatus WriteNewFile(const std::function<std::string(int)>& name, const std::string& bytes,
                         const FileMode& mode, std::string* written, std::string* error) {
  const std::string first = name(0);
  std::string tmp;
  if (!WriteTemp(first, bytes, mode, &tmp, error)) return WriteStatus::kFailed;
  for (int attempt = 0; attempt < kMaxNameAttempts; ++attempt) {
    const std::string path = attempt == 0 ? first : name(attempt);
    if (path.empty()) break;
    // Never onto an existing name (a report of an earlier process with the
    // same pid, a link planted there): that name is taken, try the next.
    if (RenameNoReplace(tmp, path) == 0) {
      *written = path;
      return WriteStatus::kWritten;
    }
    if (errno != EEXIST) {
      const int saved = errno;
      unlink(tmp.c_str());
      *error = path + ": cannot write: " + std::strerror(saved);
      return WriteStatus::kFailed;
    }
  }
  unlink(tmp.c_str());
  *error = first + ": every name for it is taken";
  return WriteStatus::kExists;
}

WriteStatus MoveToNewName(const std::string& from, const std::function<std::string(int)>& name,
                          std::string* moved, std::string* error) {
  for (int attempt = 0; attempt < kMaxNameAttempts; ++attempt) {
    const std::string path = name(attempt);
    if (path.empty()) break;
    if (RenameNoReplace(from, path) == 0) {
      *moved = path;
      return WriteStatus::kWritten;
    }
    if (errno != EEXIST) {
      *error = from + ": cannot move it to " + path + ": " + std::strerror(errno);
      return WriteStatus::kFailed;
    }
  }
  *error = name(0) + ": every name for it is taken";
  return WriteStatus::kExists;
}

bool ReplaceFile(const std::string& path, const std::string& bytes, const FileMode& mode,
                 std::string* error) {
  std::string tmp;
  if (!WriteTemp(path, bytes, mode, &tmp, error)) return false;
  // rename() replaces the name itself: a symlink there is not followed.
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    unlink(tmp.c_str());
    *error = path + ": cannot write: " + std::strerror(saved);
    return false;
  }
  return true;
}

bool WriteReportFile(const std::string& path, const Report& report, std::string* error,
                     const FileMode& mode) {
  std::string bytes;
  if (!EncodeReportFile(report, &bytes)) {
    *error = path + ": cannot serialize report";
    return false;
  }
  return ReplaceFile(path, bytes, mode, error);
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
