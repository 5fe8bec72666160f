// The in-process API's side of the wire: wire.Query encoded by hand into a
// Message, and wire.Reply decoded by hand from the collector's answer (the
// shim links no libprotobuf). tests/preload/query_wire_test.cc checks both
// against the generated classes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "byte_buffer.h"
#include "include/leakscope.h"

namespace leakscope::preload {

namespace query_field {
inline constexpr uint32_t kMessageQuery = 7;
inline constexpr uint32_t kId = 1, kKind = 2, kMark = 3, kPath = 4, kMaxSites = 5, kAllow = 6,
                          kStop = 7, kLabel = 8, kSendReport = 9;
inline constexpr uint32_t kReplyId = 1, kReplyOk = 2, kReplyError = 3, kReplyMark = 4,
                          kReplyLiveBytes = 5, kReplyLiveAllocations = 6, kReplyEstimated = 7,
                          kReplySites = 8, kReplyAllowedBytes = 9, kReplyPath = 10,
                          kReplyReport = 11;
inline constexpr uint32_t kSiteFunction = 1, kSiteFile = 2, kSiteLine = 3, kSiteBytes = 4,
                          kSiteAllocations = 5;
}  // namespace query_field

enum class QueryKind : uint32_t { kMark = 1, kLiveSince = 2, kSnapshot = 3, kReachability = 4 };

struct QueryInfo {
  uint32_t id = 0;
  QueryKind kind = QueryKind::kMark;
  uint64_t mark = 0;
  const char* label = nullptr;  // SNAPSHOT: a word for the file name
  bool send_report = false;     // SNAPSHOT: the report's bytes, not a file
  uint32_t max_sites = 0;
  const char* const* allow_functions = nullptr;  // NULL-terminated
  const char* const* stop_functions = nullptr;   // NULL-terminated
};

struct ReplyInfo {
  uint32_t id = 0;
  bool ok = false;
  uint64_t mark = 0;
  leakscope_live* live = nullptr;               // LIVE_SINCE fills it (error included), if set
  leakscope_snapshot_info* snapshot = nullptr;  // SNAPSHOT fills path and error, if set
  const char* report = nullptr;  // SNAPSHOT with send_report: the bytes, in the reply's buffer
  size_t report_size = 0;
};

// Appends Message.query.
void EncodeQuery(const QueryInfo& q, ByteBuffer* msg);
// Parses a serialized Reply. False if it is malformed.
bool DecodeReply(const char* data, size_t size, ReplyInfo* out);

}  // namespace leakscope::preload
