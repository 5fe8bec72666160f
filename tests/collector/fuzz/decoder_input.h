// One fuzz input through what a hostile peer reaches: the stream decoder,
// the process state, the timeline, and a report built from what was
// accepted. Shared by the libFuzzer target and the corpus replay test.
//
// Input: byte 0 picks the read size (1..256) the bytes are fed in, as
// read() might split them; the rest is the stream.
#pragma once

#include <cstddef>
#include <cstdint>

#include "process_watch.h"
#include "report_builder.h"
#include "stream_decoder.h"

namespace leakscope::testing {

// Returns true if the decoder accepted the whole stream.
inline bool FeedDecoderInput(const uint8_t* data, size_t size) {
  if (size == 0) return false;
  const size_t chunk = size_t(data[0]) + 1;
  collector::ProcessState state;
  collector::Timeline timeline(1, 64);  // every message, halving often
  collector::StreamDecoder decoder([&](const wire::Message& m) {
    state.Apply(m);
    timeline.Observe(state, m);
  });
  collector::DecoderLimits limits;
  limits.max_frame_bytes = 1 << 20;  // the fuzzer's memory, not the format's limit
  limits.max_stacks = 4096;
  decoder.set_limits(limits);
  bool ok = true;
  for (size_t pos = 1; pos < size && ok; pos += chunk) {
    const size_t n = pos + chunk <= size ? chunk : size - pos;
    ok = decoder.Feed(reinterpret_cast<const char*>(data + pos), n);
  }
  ok = ok && decoder.Finish();
  // A report of whatever was accepted: no symbolizer (module paths come
  // from the input and must not be opened), one fixed frame per pc.
  collector::ReportContext context;
  context.timeline = &timeline;
  const std::vector<collector::SymbolizedFrame> frame(1);
  report::Report r = collector::BuildReport(
      state, context,
      [&](uint64_t) -> const std::vector<collector::SymbolizedFrame>& { return frame; });
  return ok && r.IsInitialized();
}

}  // namespace leakscope::testing
