// Incremental decoder of the shim -> collector stream (proto/wire.proto).
//
// Feed() accepts the bytes exactly as read() returned them, split anywhere.
// Each complete frame is decompressed, parsed and validated as a whole before
// the sink sees it, so a bad frame never half-applies. The first violation
// makes the decoder fail for good with a one-line reason; what was handed to
// the sink before stays valid.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "stack_id_map.h"
#include "wire.pb.h"

namespace leakscope::collector {

// Deeper stacks are a corrupt stream, not a program: the shim unwinds at most
// a few dozen frames.
inline constexpr int kMaxStackDepth = 256;

// Per-stream limits: a stream that breaks one is closed (see Server). The
// defaults fit any real program; a daemon may tighten them.
struct DecoderLimits {
  uint32_t max_frame_bytes = 16u << 20;  // raw (decompressed) size of one frame
  int max_stack_depth = kMaxStackDepth;
  uint64_t max_stacks = 4u << 20;  // distinct stack ids defined by the stream
};

// Asked before the decoder takes memory for a frame (the daemon's budget,
// collector/memory_budget.h). A non-empty answer refuses: the decoder fails
// with it as the reason.
struct DecoderAdmission {
  // Before a frame is decompressed and parsed: the most that may take.
  std::function<std::string(uint64_t bytes)> decode;
  // Before a decoded message is validated and handed to the sink.
  std::function<std::string(const wire::Message&)> apply;
};

// Parsed, a frame's message may take this many bytes per raw byte: a packed
// 64-bit varint of one byte is 8 in memory, in an array that doubles; a
// stack of 4 bytes on the wire is an object of ~60.
inline constexpr uint64_t kParsedBytesPerRawByte = 16;

class StreamDecoder {
 public:
  using Sink = std::function<void(const wire::Message&)>;
  explicit StreamDecoder(Sink sink);

  // Before the first Feed(). Limits above the wire format's own are capped.
  void set_limits(const DecoderLimits& limits);
  void set_admission(DecoderAdmission admission) { admission_ = std::move(admission); }

  // Bytes held: buffers, the last message kept for reuse, the stack ids.
  uint64_t MemoryBytes() const;
  // The most more it holds while validating `message` (its stack ids).
  uint64_t GrowthBound(const wire::Message& message) const;

  // An unfinished stream header or frame: the bytes of it received so far,
  // and its whole size (8, the frame header, until that is complete).
  uint64_t pending_bytes() const { return pending_.size(); }
  uint64_t pending_unit_bytes() const;
  bool in_stream_header() const { return !header_done_; }

  // Returns false once the stream is known to be bad (see error()).
  bool Feed(const char* data, size_t size);

  // The stream ended (EOF). A half-received header or frame is an error.
  bool Finish();

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  uint64_t bytes_received() const { return bytes_received_; }
  uint64_t frames_decoded() const { return frames_decoded_; }

 private:
  bool ParseHeader(const char* p);
  bool DecodeFrame(const char* payload, uint32_t compressed, uint32_t raw);
  bool Validate(const wire::Message& message);
  bool ValidateEvents(const wire::Events& events, std::string* reason) const;
  bool ValidateFolded(const wire::Events& events, std::string* reason) const;
  bool ValidateMapEvents(const wire::Message& message, std::string* reason) const;
  bool StacksDefined(const google::protobuf::RepeatedField<uint32_t>& ids,
                     std::string* reason) const;
  bool Fail(std::string reason);
  void Append(const char* data, size_t size);

  Sink sink_;
  std::string pending_;  // bytes of an incomplete header or frame
  std::string raw_;      // decompression buffer, reused
  wire::Message message_;
  StackIdMap defined_stacks_;  // id -> 0: used as a set
  uint64_t stacks_defined_ = 0;
  bool inherits_stacks_ = false;  // a forked child: events may use its parent's stack ids
  bool exact_ = true;             // every allocation recorded (Hello.sampling_interval_bytes 1)
  bool control_ = false;          // the first frame was a control request: nothing may follow
  DecoderLimits limits_;
  DecoderAdmission admission_;
  uint64_t message_bytes_ = 0;  // message_'s memory after the last frame
  bool header_done_ = false;
  std::string error_;
  uint64_t bytes_received_ = 0;
  uint64_t frames_decoded_ = 0;
};

}  // namespace leakscope::collector
