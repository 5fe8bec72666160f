// The shim's settings from the environment: LEAKSCOPE_SAMPLE_INTERVAL takes
// the one size syntax (proto/byte_size.h); a value it cannot read is a
// one-line warning on stderr and the default, never a different number.
#include "config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <string>

namespace leakscope::preload {
namespace {

struct Loaded {
  uint64_t sample_interval = 0;
  std::string err;
};

Loaded LoadWith(const char* sample_interval) {
  if (sample_interval != nullptr) {
    setenv("LEAKSCOPE_SAMPLE_INTERVAL", sample_interval, 1);
  } else {
    unsetenv("LEAKSCOPE_SAMPLE_INTERVAL");
  }
  Config config;
  ::testing::internal::CaptureStderr();
  LoadConfig(&config);
  Loaded loaded{config.sample_interval, ::testing::internal::GetCapturedStderr()};
  unsetenv("LEAKSCOPE_SAMPLE_INTERVAL");
  return loaded;
}

TEST(Config, SampleIntervalTakesUnits) {
  const std::pair<const char*, uint64_t> cases[] = {
      {"1", 1}, {"4096", 4096}, {"64K", 64 * 1024}, {"512KiB", 512 * 1024}, {"2M", 2 << 20}};
  for (const auto& [text, bytes] : cases) {
    const Loaded loaded = LoadWith(text);
    EXPECT_EQ(loaded.sample_interval, bytes) << text;
    EXPECT_EQ(loaded.err, "") << text;
  }
}

TEST(Config, UnsetSampleIntervalIsTheDefaultSilently) {
  const Loaded loaded = LoadWith(nullptr);
  EXPECT_EQ(loaded.sample_interval, kDefaultSampleInterval);
  EXPECT_EQ(loaded.err, "");
}

TEST(Config, UnreadableSampleIntervalWarnsAndUsesTheDefault) {
  for (const char* text : {"64KB", "lots", "-1", ""}) {
    const Loaded loaded = LoadWith(text);
    EXPECT_EQ(loaded.sample_interval, kDefaultSampleInterval) << text;
    EXPECT_EQ(loaded.err, "leakscope: LEAKSCOPE_SAMPLE_INTERVAL='" + std::string(text) +
                              "' is not a size (e.g. 4096, 512K, 64M, 2G); using " +
                              std::to_string(kDefaultSampleInterval) + "\n");
  }
}

TEST(Config, AnUnreadableValueIsQuotedOnOneShortLine) {
  const std::string long_value = "1\n" + std::string(200, 'x');
  const Loaded loaded = LoadWith(long_value.c_str());
  EXPECT_EQ(loaded.sample_interval, kDefaultSampleInterval);
  EXPECT_EQ(loaded.err, "leakscope: LEAKSCOPE_SAMPLE_INTERVAL='1 " + std::string(62, 'x') +
                            "' is not a size (e.g. 4096, 512K, 64M, 2G); using " +
                            std::to_string(kDefaultSampleInterval) + "\n");
}

}  // namespace
}  // namespace leakscope::preload
