#include "stream_decoder.h"

#include <lz4.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "framing.h"

namespace leakscope::collector {
namespace {

constexpr uint32_t kKeepBuffersBelow = 1u << 20;

uint32_t LoadU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

}  // namespace

StreamDecoder::StreamDecoder(Sink sink) : sink_(std::move(sink)) {}

void StreamDecoder::set_limits(const DecoderLimits& limits) {
  limits_ = limits;
  limits_.max_frame_bytes = std::min(limits_.max_frame_bytes, wire::kMaxFrameRawSize);
  limits_.max_stack_depth = std::min(limits_.max_stack_depth, kMaxStackDepth);
}

bool StreamDecoder::Fail(std::string reason) {
  if (error_.empty()) error_ = std::move(reason);
  pending_.clear();
  pending_.shrink_to_fit();
  return false;
}

uint64_t StreamDecoder::MemoryBytes() const {
  return pending_.capacity() + raw_.capacity() + message_bytes_ + defined_stacks_.MemoryBytes();
}

uint64_t StreamDecoder::GrowthBound(const wire::Message& m) const {
  uint64_t sparse = 0;
  uint32_t max_dense = 0;
  for (const wire::Stack& s : m.stacks()) {
    if (s.id() < StackIdMap::kDenseLimit)
      max_dense = std::max(max_dense, s.id());
    else
      ++sparse;
  }
  return defined_stacks_.GrowthBound(max_dense, sparse);
}

uint64_t StreamDecoder::pending_unit_bytes() const {
  if (!header_done_) return wire::kStreamHeaderSize;
  if (pending_.size() < wire::kFrameHeaderSize) return wire::kFrameHeaderSize;
  return wire::kFrameHeaderSize + uint64_t(LoadU32(pending_.data()));
}

// Grows the unfinished unit's buffer no further than the unit announced: a
// 16 MiB frame arriving in pieces does not end in a 32 MiB buffer.
void StreamDecoder::Append(const char* data, size_t size) {
  const size_t need = pending_.size() + size;
  if (need > pending_.capacity()) {
    const size_t unit = std::max<size_t>(pending_unit_bytes(), need);
    // A new string: reserve() on this one would round up to twice its capacity.
    std::string grown;
    grown.reserve(std::max(need, std::min(2 * pending_.capacity(), unit)));
    grown.append(pending_);
    pending_.swap(grown);
  }
  pending_.append(data, size);
}

bool StreamDecoder::Feed(const char* data, size_t size) {
  if (failed()) return false;
  bytes_received_ += size;
  // Complete units are decoded straight from `data`; only a trailing partial
  // unit is copied, so a large read costs no extra copy.
  if (!pending_.empty()) {
    Append(data, size);
    data = pending_.data();
    size = pending_.size();
  }
  size_t pos = 0;
  while (true) {
    const char* p = data + pos;
    size_t left = size - pos;
    if (!header_done_) {
      if (left < wire::kStreamHeaderSize) break;
      if (!ParseHeader(p)) return false;
      pos += wire::kStreamHeaderSize;
      continue;
    }
    if (left < wire::kFrameHeaderSize) break;
    uint32_t compressed = LoadU32(p), raw = LoadU32(p + 4);
    if (raw > limits_.max_frame_bytes)
      return Fail("frame of " + std::to_string(raw) + " bytes exceeds the limit of " +
                  std::to_string(limits_.max_frame_bytes));
    if (compressed > static_cast<uint32_t>(LZ4_compressBound(static_cast<int>(raw))))
      return Fail("frame claims " + std::to_string(compressed) + " compressed bytes for " +
                  std::to_string(raw) + " raw bytes");
    if (left - wire::kFrameHeaderSize < compressed) break;
    if (!DecodeFrame(p + wire::kFrameHeaderSize, compressed, raw)) return false;
    pos += wire::kFrameHeaderSize + compressed;
  }
  // Keep the unfinished unit. A big frame arrives over many reads: append to
  // it in place rather than copying it again each time.
  if (data == pending_.data())
    pending_.erase(0, pos);
  else
    pending_.assign(data + pos, size - pos);
  return true;
}

bool StreamDecoder::Finish() {
  if (failed()) return false;
  if (!header_done_ && pending_.empty()) return true;  // connected, said nothing
  if (!pending_.empty())
    return Fail("stream ended inside a " + std::string(header_done_ ? "frame" : "stream header") +
                " (" + std::to_string(pending_.size()) + " bytes left over)");
  return true;
}

bool StreamDecoder::ParseHeader(const char* p) {
  if (std::memcmp(p, wire::kStreamMagic, sizeof wire::kStreamMagic) != 0)
    return Fail("not a leakscope stream (bad magic)");
  uint32_t version = LoadU32(p + 4);
  if (version != wire::kProtocolVersion)
    return Fail("unsupported protocol version " + std::to_string(version) + " (expected " +
                std::to_string(wire::kProtocolVersion) + ")");
  header_done_ = true;
  return true;
}

bool StreamDecoder::DecodeFrame(const char* payload, uint32_t compressed, uint32_t raw) {
  const uint64_t frame = frames_decoded_ + 1;
  if (admission_.decode) {
    std::string refused = admission_.decode(uint64_t(raw) * (1 + kParsedBytesPerRawByte));
    if (!refused.empty()) return Fail("frame " + std::to_string(frame) + ": " + refused);
  }
  raw_.resize(raw);
  int n = LZ4_decompress_safe(payload, raw_.data(), static_cast<int>(compressed),
                              static_cast<int>(raw));
  if (n < 0) return Fail("frame " + std::to_string(frame) + ": corrupt LZ4 data");
  if (static_cast<uint32_t>(n) != raw)
    return Fail("frame " + std::to_string(frame) + ": decompressed to " + std::to_string(n) +
                " bytes, header says " + std::to_string(raw));
  if (!message_.ParseFromArray(raw_.data(), static_cast<int>(raw)))
    return Fail("frame " + std::to_string(frame) + ": cannot parse wire.Message");
  if (admission_.apply) {
    std::string refused = admission_.apply(message_);
    if (!refused.empty()) return Fail("frame " + std::to_string(frame) + ": " + refused);
  }
  if (!Validate(message_)) return false;
  ++frames_decoded_;
  sink_(message_);
  // The buffers are kept for the next frame, unless big: a stream that sent
  // one big frame does not hold its memory for ever.
  if (raw > kKeepBuffersBelow) {
    raw_ = std::string();
    wire::Message().Swap(&message_);
  }
  if (admission_.decode) message_bytes_ = message_.SpaceUsedLong();
  return true;
}

bool StreamDecoder::Validate(const wire::Message& m) {
  const std::string where = "frame " + std::to_string(frames_decoded_ + 1) + ": ";
  // A control request (the daemon's CLI) stands alone instead of a hello.
  if (m.has_control() && (frames_decoded_ > 0 || m.has_hello()))
    return Fail(where + "a control request inside a traced stream");
  if (frames_decoded_ == 0 && !m.has_hello() && !m.has_control())
    return Fail(where + "first frame has no hello");
  if (control_) return Fail(where + "nothing may follow a control request");
  control_ = m.has_control();
  if (frames_decoded_ > 0 && m.has_hello()) return Fail(where + "second hello in one stream");
  // A forked child's events may use the parent's stack ids, which its own
  // stream never defines: the collector seeds them from the parent, or, if
  // that is unavailable, counts them under an unknown stack.
  if (m.has_hello() && m.hello().fork_id() != 0) inherits_stacks_ = true;
  if (m.has_hello()) exact_ = m.hello().sampling_interval_bytes() <= 1;
  // Stacks are checked and registered first: events of this frame may use them.
  // On failure nothing is applied, so registering early does no harm.
  for (const wire::Stack& s : m.stacks()) {
    if (s.id() == 0) return Fail(where + "stack id 0 is reserved");
    if (s.pcs_size() > limits_.max_stack_depth)
      return Fail(where + "stack " + std::to_string(s.id()) + " has " +
                  std::to_string(s.pcs_size()) + " frames (limit " +
                  std::to_string(limits_.max_stack_depth) + ")");
    if (++stacks_defined_ > limits_.max_stacks)
      return Fail(where + "more than " + std::to_string(limits_.max_stacks) + " distinct stacks");
    if (!defined_stacks_.Insert(s.id(), 0))
      return Fail(where + "stack " + std::to_string(s.id()) + " defined twice");
  }
  for (const wire::Module& mod : m.modules())
    if (mod.exec_ranges_size() % 2 != 0)
      return Fail(where + "module " + mod.path() + " has an odd number of range bounds");
  std::string reason;
  if (m.has_events() && !ValidateEvents(m.events(), &reason)) return Fail(where + reason);
  if (m.map_events_size() && !ValidateMapEvents(m, &reason)) return Fail(where + reason);
  return true;
}

// Each range must fit in the address space; a mapping's stack must be
// defined (as an allocation's).
bool StreamDecoder::ValidateMapEvents(const wire::Message& m, std::string* reason) const {
  google::protobuf::RepeatedField<uint32_t> stacks;
  for (const wire::MapEvent& e : m.map_events()) {
    const uint64_t start = e.kind() == wire::MapEvent::REMAP_END ? e.new_address() : e.address();
    if (e.kind() < wire::MapEvent::MAP || e.kind() > wire::MapEvent::REMAP_END) {
      *reason = "map event of unknown kind " + std::to_string(int(e.kind()));
      return false;
    }
    if (start + e.length() < start) {
      *reason = "map event range past the end of the address space";
      return false;
    }
    if (e.kind() == wire::MapEvent::MAP) stacks.Add(e.stack_id());
  }
  return inherits_stacks_ || StacksDefined(stacks, reason);
}

bool StreamDecoder::ValidateEvents(const wire::Events& e, std::string* reason) const {
  if (e.size_plus_one_size() != e.address_delta_size()) {
    *reason = "events columns disagree (" + std::to_string(e.size_plus_one_size()) + " sizes, " +
              std::to_string(e.address_delta_size()) + " addresses)";
    return false;
  }
  int allocations = 0;
  for (uint64_t s : e.size_plus_one()) allocations += s != 0;
  if (allocations != e.stack_id_size()) {
    *reason = "events have " + std::to_string(allocations) + " allocations but " +
              std::to_string(e.stack_id_size()) + " stack ids";
    return false;
  }
  if (!ValidateFolded(e, reason)) return false;
  // A forked child's events may use its parent's stack ids (inherits_stacks_).
  if (inherits_stacks_) return true;
  return StacksDefined(e.stack_id(), reason) && StacksDefined(e.transient_stack_id(), reason) &&
         StacksDefined(e.adjust_stack_id(), reason);
}

bool StreamDecoder::StacksDefined(const google::protobuf::RepeatedField<uint32_t>& ids,
                                  std::string* reason) const {
  // 0 = no stack: the shim could not store it (out of memory; wire.proto).
  uint32_t checked = 0;  // a program allocates from one site many times in a row
  for (uint32_t id : ids) {
    if (id == checked) continue;
    if (defined_stacks_.Find(id) == StackIdMap::kNone) {
      *reason = "event uses undefined stack " + std::to_string(id);
      return false;
    }
    checked = id;
  }
  return true;
}

// Folded allocations (wire.proto, preload/transient_folder.h): only in exact
// mode, columns that agree, adjustments within the events, and per stack
// folded live bytes that never go below zero and are zero at the end.
bool StreamDecoder::ValidateFolded(const wire::Events& e, std::string* reason) const {
  const int transients = e.transient_stack_id_size(), adjustments = e.adjust_before_delta_size();
  if ((transients || adjustments) && !exact_) {
    *reason = "folded allocations in a sampled stream";
    return false;
  }
  if (e.transient_count_size() != transients || e.transient_bytes_size() != transients ||
      e.transient_temporary_size() != transients) {
    *reason = "folded allocation columns disagree";
    return false;
  }
  for (int k = 0; k < transients; ++k) {
    if (e.transient_temporary(k) > e.transient_count(k)) {
      *reason = "more temporary than folded allocations";
      return false;
    }
  }
  if (e.adjust_entries_size() != adjustments || e.adjust_address_size() != adjustments) {
    *reason = "adjustment columns disagree";
    return false;
  }
  uint64_t before = 0, entries = 0;
  for (int k = 0; k < adjustments; ++k) {
    before += e.adjust_before_delta(k);
    entries += e.adjust_entries(k);
    if (before > uint64_t(e.size_plus_one_size())) {
      *reason = "adjustment after the last event";
      return false;
    }
  }
  if (entries != uint64_t(e.adjust_stack_id_size()) || entries != uint64_t(e.adjust_bytes_size())) {
    *reason = "adjustments have " + std::to_string(entries) + " entries but " +
              std::to_string(e.adjust_stack_id_size()) + " stacks and " +
              std::to_string(e.adjust_bytes_size()) + " byte counts";
    return false;
  }
  constexpr int64_t kMaxLive = int64_t(1) << 56;
  std::unordered_map<uint32_t, int64_t> live;
  for (int j = 0; j < e.adjust_stack_id_size(); ++j) {
    int64_t& l = live[e.adjust_stack_id(j)];
    const int64_t delta = e.adjust_bytes(j);
    if (delta > kMaxLive || delta < -kMaxLive || (l += delta) < 0 || l > kMaxLive) {
      *reason =
          "folded live bytes of stack " + std::to_string(e.adjust_stack_id(j)) + " go out of range";
      return false;
    }
  }
  for (const auto& [stack, bytes] : live) {
    if (bytes != 0) {
      *reason = "folded live bytes of stack " + std::to_string(stack) + " do not return to zero";
      return false;
    }
  }
  return true;
}

}  // namespace leakscope::collector
