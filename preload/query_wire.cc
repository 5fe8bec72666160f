#include "query_wire.h"

#include <cstring>

namespace leakscope::preload {
namespace {

namespace f = query_field;

// A protobuf reader over one message's bytes: varints and length-delimited
// fields are all Reply uses; anything else ends the parse as malformed.
class Reader {
 public:
  Reader(const char* p, size_t n) : p_(reinterpret_cast<const uint8_t*>(p)), end_(p_ + n) {}
  bool done() const { return p_ == end_; }
  bool Varint(uint64_t* v) {
    *v = 0;
    for (int shift = 0; shift < 64 && p_ < end_; shift += 7) {
      const uint8_t b = *p_++;
      *v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return true;
    }
    return false;
  }
  // The next field: its number, and its value (varint) or bytes (wire type 2).
  bool Next(uint32_t* field, uint64_t* value, const char** bytes) {
    uint64_t tag;
    if (!Varint(&tag)) return false;
    *field = static_cast<uint32_t>(tag >> 3);
    *bytes = nullptr;
    if ((tag & 7) == 0) return Varint(value);
    if ((tag & 7) != 2 || !Varint(value) || *value > uint64_t(end_ - p_)) return false;
    *bytes = reinterpret_cast<const char*>(p_);
    p_ += *value;
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

void CopyText(char* out, const char* s, size_t n) {
  if (!s) n = 0;
  if (n >= LEAKSCOPE_TEXT_SIZE) n = LEAKSCOPE_TEXT_SIZE - 1;
  std::memcpy(out, s ? s : "", n);
  out[n] = 0;
}

bool DecodeSite(const char* data, size_t size, leakscope_site* s) {
  std::memset(s, 0, sizeof *s);
  Reader r(data, size);
  uint32_t field;
  uint64_t v;
  const char* b;
  while (!r.done()) {
    if (!r.Next(&field, &v, &b)) return false;
    if (field == f::kSiteFunction && b) CopyText(s->function, b, v);
    if (field == f::kSiteFile && b) CopyText(s->file, b, v);
    if (field == f::kSiteLine && !b) s->line = static_cast<uint32_t>(v);
    if (field == f::kSiteBytes && !b) s->bytes = v;
    if (field == f::kSiteAllocations && !b) s->allocations = v;
  }
  return true;
}

bool DecodeField(uint32_t field, uint64_t v, const char* b, ReplyInfo* out) {
  leakscope_live* live = out->live;
  if (b && field == f::kReplyReport) {
    out->report = b;
    out->report_size = v;
  }
  if (leakscope_snapshot_info* s = out->snapshot; s && b) {
    if (field == f::kReplyError) CopyText(s->error, b, v);
    if (field == f::kReplyPath) {
      const size_t n = v < LEAKSCOPE_PATH_SIZE ? v : 0;  // never a cut path
      std::memcpy(s->path, b, n);
      s->path[n] = 0;
    }
  }
  if (b == nullptr) {
    if (field == f::kReplyId) out->id = static_cast<uint32_t>(v);
    if (field == f::kReplyOk) out->ok = v != 0;
    if (field == f::kReplyMark) out->mark = v;
    if (!live) return true;
    if (field == f::kReplyLiveBytes) live->bytes = v;
    if (field == f::kReplyLiveAllocations) live->allocations = v;
    if (field == f::kReplyEstimated) live->estimated = v != 0;
    if (field == f::kReplyAllowedBytes) live->allowed_bytes = v;
    return true;
  }
  if (!live) return true;
  if (field == f::kReplyError) CopyText(live->error, b, v);
  if (field == f::kReplySites && live->site_count < LEAKSCOPE_MAX_SITES)
    return DecodeSite(b, v, &live->sites[live->site_count++]);
  return true;
}

}  // namespace

void EncodeQuery(const QueryInfo& q, ByteBuffer* msg) {
  ByteBuffer b;
  b.PutVarintField(f::kId, q.id);
  b.PutVarintField(f::kKind, static_cast<uint32_t>(q.kind));
  if (q.mark) b.PutVarintField(f::kMark, q.mark);
  if (q.label && *q.label) b.PutStringField(f::kLabel, q.label);
  if (q.send_report) b.PutVarintField(f::kSendReport, 1);
  if (q.max_sites) b.PutVarintField(f::kMaxSites, q.max_sites);
  for (const char* const* a = q.allow_functions; a && *a; ++a) b.PutStringField(f::kAllow, *a);
  for (const char* const* a = q.stop_functions; a && *a; ++a) b.PutStringField(f::kStop, *a);
  msg->PutMessageField(f::kMessageQuery, b);
}

bool DecodeReply(const char* data, size_t size, ReplyInfo* out) {
  Reader r(data, size);
  uint32_t field;
  uint64_t v;
  const char* b;
  while (!r.done())
    if (!r.Next(&field, &v, &b) || !DecodeField(field, v, b, out)) return false;
  return true;
}

}  // namespace leakscope::preload
