// Every input of tests/collector/fuzz_corpus/ through the decoder (as the
// fuzzer feeds it), so a fixed crash stays fixed under `make test` (ASan).
// The seeds (seed-*) are valid streams and must be accepted whole.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "decoder_input.h"

namespace leakscope::testing {
namespace {

TEST(FuzzCorpus, EveryInputReplaysAndSeedsAreValid) {
  size_t files = 0, seeds = 0;
  for (const auto& e : std::filesystem::directory_iterator(FUZZ_CORPUS_DIR)) {
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const bool ok = FeedDecoderInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    ++files;
    if (e.path().filename().string().rfind("seed-", 0) == 0) {
      ++seeds;
      EXPECT_TRUE(ok) << e.path();
    }
  }
  EXPECT_GE(seeds, 5u);
  EXPECT_GE(files, seeds);
}

}  // namespace
}  // namespace leakscope::testing
