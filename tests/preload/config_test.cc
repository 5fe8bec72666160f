// The shim's settings from the environment: LEAKSCOPE_SAMPLE_INTERVAL and
// LEAKSCOPE_RING_SIZE take the one size syntax (proto/byte_size.h);
// LEAKSCOPE_RING_KB, the ring's older name, still means KiB. A value it
// cannot read is a one-line warning on stderr and the default, never a
// different number.
#include "config.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <initializer_list>
#include <string>
#include <utility>

namespace leakscope::preload {
namespace {

struct Loaded {
  uint64_t sample_interval = 0;
  std::string err;
};

// LoadConfig with these variables set (a null value: unset), and what it
// wrote on stderr; the variables are unset again after.
Config LoadWithEnv(std::initializer_list<std::pair<const char*, const char*>> vars,
                   std::string* err) {
  for (const auto& [name, value] : vars) {
    if (value != nullptr) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
  }
  Config config;
  ::testing::internal::CaptureStderr();
  LoadConfig(&config);
  *err = ::testing::internal::GetCapturedStderr();
  for (const auto& var : vars) unsetenv(var.first);
  return config;
}

Loaded LoadWith(const char* sample_interval) {
  Loaded loaded;
  loaded.sample_interval =
      LoadWithEnv({{"LEAKSCOPE_SAMPLE_INTERVAL", sample_interval}}, &loaded.err).sample_interval;
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

struct Ring {
  uint32_t words = 0;
  std::string err;
};

// LoadConfig with LEAKSCOPE_RING_SIZE and LEAKSCOPE_RING_KB as given
// (nullptr: unset).
Ring RingWith(const char* size, const char* kb) {
  Ring ring;
  ring.words =
      LoadWithEnv({{"LEAKSCOPE_RING_SIZE", size}, {"LEAKSCOPE_RING_KB", kb}}, &ring.err).ring_words;
  return ring;
}

TEST(Config, RingSizeTakesUnitsAndRoundsUpToAPowerOfTwo) {
  const std::pair<const char*, uint32_t> cases[] = {
      {"512K", 65536}, {"524288", 65536}, {"4M", 524288}, {"4MiB", 524288},
      {"8K", 1024},    {"1", 1024},       {"0", 1024},    {"100K", 16384},  // 128 KiB
      {"1G", 1u << 24}};                                                    // at most 128 MiB
  for (const auto& [text, words] : cases) {
    const Ring ring = RingWith(text, nullptr);
    EXPECT_EQ(ring.words, words) << text;
    EXPECT_EQ(ring.err, "") << text;
  }
}

TEST(Config, UnsetRingIsTheDefaultSilently) {
  const Ring ring = RingWith(nullptr, nullptr);
  EXPECT_EQ(ring.words, kDefaultRingBytes / 8);
  EXPECT_EQ(ring.err, "");
}

TEST(Config, UnreadableRingSizeWarnsAndUsesTheDefault) {
  for (const char* text : {"4MB", "big", "-8K", ""}) {
    const Ring ring = RingWith(text, nullptr);
    EXPECT_EQ(ring.words, kDefaultRingBytes / 8) << text;
    EXPECT_EQ(ring.err, "leakscope: LEAKSCOPE_RING_SIZE='" + std::string(text) +
                            "' is not a size (e.g. 4096, 512K, 64M, 2G); using 524288\n");
  }
}

// As documented before LEAKSCOPE_RING_SIZE: a plain number of KiB.
TEST(Config, RingKbStillMeansKiB) {
  const Ring eight = RingWith(nullptr, "8");
  EXPECT_EQ(eight.words, 1024u);
  EXPECT_EQ(eight.err, "");
  EXPECT_EQ(RingWith(nullptr, "4096").words, 524288u);  // 4 MiB, not 4096 bytes
}

TEST(Config, UnreadableRingKbWarnsAndUsesTheDefault) {
  for (const char* text : {"4M", "512K", "lots", "", "99999999999999999999"}) {
    const Ring ring = RingWith(nullptr, text);
    EXPECT_EQ(ring.words, kDefaultRingBytes / 8) << text;
    EXPECT_EQ(ring.err, "leakscope: LEAKSCOPE_RING_KB='" + std::string(text) +
                            "' is not a number of KiB (LEAKSCOPE_RING_SIZE takes 512K, 4M); "
                            "using 512\n");
  }
}

TEST(Config, RingSizeWinsOverRingKbAndSaysSo) {
  const Ring ring = RingWith("8K", "4096");
  EXPECT_EQ(ring.words, 1024u);
  EXPECT_EQ(ring.err, "leakscope: LEAKSCOPE_RING_KB ignored: LEAKSCOPE_RING_SIZE is set\n");
}

struct Flush {
  uint32_t ms = 0;
  std::string err;
};

Flush FlushWith(const char* text) {
  Flush flush;
  flush.ms = LoadWithEnv({{"LEAKSCOPE_FLUSH_MS", text}}, &flush.err).flush_interval_ms;
  return flush;
}

TEST(Config, FlushIntervalFromOneToAHundredMilliseconds) {
  for (const auto& [text, ms] :
       {std::pair<const char*, uint32_t>{nullptr, 10}, {"1", 1}, {"25", 25}, {"100", 100}}) {
    const Flush flush = FlushWith(text);
    EXPECT_EQ(flush.ms, ms) << (text ? text : "unset");
    EXPECT_EQ(flush.err, "") << (text ? text : "unset");
  }
}

// Longer than the longest is the longest, not the default ten times
// shorter; unreadable is the default; both on one line.
TEST(Config, FlushIntervalOutOfRangeSaysWhatItUses) {
  const std::pair<const char*, uint32_t> cases[] = {
      {"101", 100}, {"5000", 100}, {"0", 10}, {"10ms", 10}, {"", 10}};
  for (const auto& [text, ms] : cases) {
    const Flush flush = FlushWith(text);
    EXPECT_EQ(flush.ms, ms) << text;
    EXPECT_EQ(flush.err, "leakscope: LEAKSCOPE_FLUSH_MS='" + std::string(text) +
                             "' is not a number of milliseconds from 1 to 100; using " +
                             std::to_string(ms) + "\n")
        << text;
  }
}

}  // namespace
}  // namespace leakscope::preload
