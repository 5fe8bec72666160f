// libFuzzer target: arbitrary bytes as a shim stream (see decoder_input.h).
// Built by scripts/fuzz-decoder with clang.
#include "decoder_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  leakscope::testing::FeedDecoderInput(data, size);
  return 0;
}
