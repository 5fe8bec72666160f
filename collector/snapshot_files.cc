#include "snapshot_files.h"

#include <unistd.h>

#include <algorithm>

namespace leakscope::collector {

std::string SanitizeName(const std::string& text, size_t max_length) {
  std::string out = text.substr(0, max_length);
  for (char& c : out) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  if (!out.empty() && out[0] == '.') out[0] = '_';
  return out;
}

std::string ExeBasename(const std::string& exe) {
  const size_t slash = exe.rfind('/');
  std::string base = exe.substr(slash == std::string::npos ? 0 : slash + 1);
  if (base.empty() || base == "." || base == "..") return "unknown";
  // Room left for ".<pid>.snapshot-<label>-<n>.lsr.tmp.<pid>" in a 255-byte name.
  base.resize(std::min<size_t>(base.size(), 255 - 128));
  for (char& c : base)  // a file name that cannot break a log line
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  return base;
}

namespace {

// stem + suffix(attempt) + ".lsr"
std::function<std::string(int)> Numbered(std::string stem, std::string separator) {
  return [stem = std::move(stem), separator = std::move(separator)](int attempt) {
    return attempt == 0 ? stem + ".lsr" : stem + separator + std::to_string(attempt + 1) + ".lsr";
  };
}

}  // namespace

std::function<std::string(int)> FinalReportNames(const std::string& dir, const std::string& exe,
                                                 uint32_t pid,
                                                 const std::unordered_set<std::string>* used) {
  auto plain = Numbered(dir + "/" + ExeBasename(exe) + "." + std::to_string(pid), ".");
  // Attempts map to the plain names this server has not given out yet.
  return [plain, used](int attempt) {
    for (int n = 0;; ++n) {
      const std::string path = plain(n);
      if (used->count(path)) continue;
      if (attempt-- == 0) return path;
    }
  };
}

std::function<std::string(int)> SnapshotNames(const std::string& dir, const std::string& exe,
                                              uint32_t pid, uint64_t unix_seconds) {
  return Numbered(dir + "/" + ExeBasename(exe) + "." + std::to_string(pid) + ".snap-" +
                      std::to_string(unix_seconds),
                  "-");
}

std::function<std::string(int)> AskedSnapshotNames(const std::string& dir, const std::string& exe,
                                                   uint32_t pid, const std::string& label, int n) {
  const std::string clean = SanitizeName(label, kMaxLabelLength);
  return Numbered(dir + "/" + ExeBasename(exe) + "." + std::to_string(pid) + ".snapshot-" +
                      (clean.empty() ? std::to_string(n) : clean),
                  "-");
}

std::function<std::string(int)> BeforeDeathNames(const std::string& dir, const std::string& exe,
                                                 uint32_t pid, bool oom_kill) {
  return Numbered(dir + "/" + ExeBasename(exe) + "." + std::to_string(pid) +
                      (oom_kill ? ".before-oom-kill" : ".before-death"),
                  "-");
}

std::string WriteNewReport(const std::function<std::string(int)>& names,
                           const report::Report& report, const report::FileMode& mode,
                           std::string* error) {
  std::string bytes;
  if (!report::EncodeReportFile(report, &bytes)) {
    *error = names(0) + ": cannot serialize report";
    return "";
  }
  std::string written;
  if (report::WriteNewFile(names, bytes, mode, &written, error) != report::WriteStatus::kWritten)
    return "";
  return written;
}

size_t KeepNewest(std::deque<std::string>* snapshots, const std::string& path, size_t keep) {
  snapshots->push_back(path);
  size_t deleted = 0;
  while (keep != 0 && snapshots->size() > keep) {
    if (unlink(snapshots->front().c_str()) == 0) ++deleted;
    snapshots->pop_front();
  }
  return deleted;
}

}  // namespace leakscope::collector
