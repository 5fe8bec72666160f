// Reading and writing .lsr report files.
//
// Layout: "LSKR" | u32 LE version | u64 LE payload size | u32 LE crc32 | u32 0 | payload
// The checksum turns a truncated or corrupted file into a clear error instead
// of a half-parsed report.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>

#include "report.pb.h"

namespace leakscope::report {

inline constexpr uint32_t kReportFormatVersion = 1;
inline constexpr size_t kReportHeaderSize = 24;

// Who may read a report file: 0644 as the umask allows (mode 0, a user's own
// reports), or exactly `mode` whatever the umask (leakscoped: 0600, 0640 with
// --socket-group); and the group `group` unless it is -1.
struct FileMode {
  mode_t mode = 0;
  gid_t group = static_cast<gid_t>(-1);
  // fsync before the rename: the report survives a crash of the machine, not
  // only of the process. `leakscope run` prints the report it has just written
  // and goes without (an fsync took 11 ms of its exit on a busy disk).
  bool sync = true;
};

// The file's bytes: header and payload. False if the report cannot be serialized.
bool EncodeReportFile(const Report& report, std::string* bytes);

// Every write goes to a temporary file created beside the target with
// O_CREAT|O_EXCL|O_NOFOLLOW ("<path>.tmp.<pid>", else "<path>.tmp.<pid>.<random>":
// a planted name is skipped, never followed or reused), written, synced (FileMode::sync) and then
// renamed, so a reader never sees half a file.

// Writes to `path` (replacing a file of that name). Returns false and sets
// *error (one line) on failure.
bool WriteReportFile(const std::string& path, const Report& report, std::string* error,
                     const FileMode& mode = {});
bool ReplaceFile(const std::string& path, const std::string& bytes, const FileMode& mode,
                 std::string* error);

// Writes to a name that did not exist: name(0), else name(1), name(2)...
// (at most kMaxNameAttempts; an empty name ends the list). Never replaces a
// file. kExists: every name was taken.
enum class WriteStatus { kWritten, kExists, kFailed };
inline constexpr int kMaxNameAttempts = 10000;
WriteStatus WriteNewFile(const std::function<std::string(int)>& name, const std::string& bytes,
                         const FileMode& mode, std::string* written, std::string* error);

// Gives the existing file `from` the first of name(0), name(1)... that does
// not exist (as WriteNewFile: never replacing a file). kFailed + *error if
// it cannot be moved; `from` is left as it was then.
WriteStatus MoveToNewName(const std::string& from, const std::function<std::string(int)>& name,
                          std::string* moved, std::string* error);

// Returns false and sets *error to a one-line message ("report.lsr: truncated
// (expected 1234 bytes, found 99)") if the file is missing, truncated, corrupt
// or of another format.
bool ReadReportFile(const std::string& path, Report* report, std::string* error);

}  // namespace leakscope::report
