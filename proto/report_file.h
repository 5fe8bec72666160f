// Reading and writing .lsr report files.
//
// Layout: "LSKR" | u32 LE version | u64 LE payload size | u32 LE crc32 | u32 0 | payload
// The checksum turns a truncated or corrupted file into a clear error instead
// of a half-parsed report.
#pragma once

#include <string>

#include "report.pb.h"

namespace leakscope::report {

inline constexpr uint32_t kReportFormatVersion = 1;
inline constexpr size_t kReportHeaderSize = 24;

// Writes atomically: to "<path>.tmp.<pid>", then rename(), so a reader never
// sees half a file. Returns false and sets *error (one line) on failure.
bool WriteReportFile(const std::string& path, const Report& report, std::string* error);

// Returns false and sets *error to a one-line message ("report.lsr: truncated
// (expected 1234 bytes, found 99)") if the file is missing, truncated, corrupt
// or of another format.
bool ReadReportFile(const std::string& path, Report* report, std::string* error);

}  // namespace leakscope::report
