// Answers the in-process API (preload/include/leakscope.h): a traced process
// asks, on its own stream, for a mark, for what it allocated since a mark and
// still holds, or for a report now. The query arrives after every event the
// asking thread recorded before asking, so answers are exact at that point.
// One handler per stream; it keeps a symbolizer so that repeated questions
// (one per test in a test suite) do not reload debug information.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "process_state.h"
#include "report_file.h"
#include "symbolizer.h"
#include "wire.pb.h"

namespace leakscope::collector {

class QueryHandler {
 public:
  // Where SNAPSHOT writes, and the files' mode. Only there, under names
  // built by collector/snapshot_files.h: never where a client says.
  void set_output(std::string dir, const report::FileMode& mode) {
    output_dir_ = std::move(dir);
    mode_ = mode;
  }

  // The reply to `query` about `state`.
  wire::Reply Answer(const ProcessState& state, const wire::Query& query);

  // Answers and writes the reply to `fd` (u32 LE size + Reply). The socket
  // is non-blocking; a reader that takes no reply for a second loses it
  // (the shim has given up by then anyway).
  void AnswerOn(int fd, const ProcessState& state, const wire::Query& query);

 private:
  void LiveSince(const ProcessState& state, const wire::Query& query, wire::Reply* reply);
  void Snapshot(const ProcessState& state, const wire::Query& query, wire::Reply* reply);
  const std::vector<SymbolizedFrame>& Frames(const ProcessState& state, uint32_t site);

  std::string output_dir_ = ".";
  report::FileMode mode_;
  std::unique_ptr<Symbolizer> symbolizer_;
  size_t modules_added_ = 0;
  std::vector<SymbolizedFrame> frames_;  // scratch for Frames()
  int snapshots_ = 0;
};

// The largest report sent back in a Reply (Query.send_report).
inline constexpr size_t kMaxReportReplyBytes = 64u << 20;

// Writes all of `bytes` to non-blocking `fd`, waiting at most `timeout_ms`.
bool WriteFully(int fd, const std::string& bytes, int timeout_ms);

}  // namespace leakscope::collector
