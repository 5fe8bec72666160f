// Argument parsing of `leakscope run` and `leakscope report`.
#include "cli_args.h"

#include <gtest/gtest.h>

#include "byte_size.h"
#include "report_command.h"
#include "run_command.h"

namespace leakscope::viewer {
namespace {

using Args = std::vector<std::string>;

TEST(ParseUint, StrictDecimal) {
  uint64_t v = 7;
  EXPECT_TRUE(ParseUint("0", &v));
  EXPECT_EQ(v, 0u);
  EXPECT_TRUE(ParseUint("18446744073709551615", &v));
  EXPECT_EQ(v, 18446744073709551615ull);
  EXPECT_FALSE(ParseUint("18446744073709551616", &v));  // overflows
  EXPECT_FALSE(ParseUint("", &v));
  EXPECT_FALSE(ParseUint("-1", &v));
  EXPECT_FALSE(ParseUint("12k", &v));
  EXPECT_FALSE(ParseUint(" 1", &v));
}

TEST(ParseRunArgs, OptionsThenCommand) {
  RunArgs args;
  std::string error;
  ASSERT_EQ(ParseRunArgs({"-o", "/tmp/r", "--sample-interval=4096", "--top", "3", "--", "ls", "-l",
                          "--", "x"},
                         &args, &error),
            ParseOutcome::kOk)
      << error;
  EXPECT_EQ(args.output_dir, "/tmp/r");
  EXPECT_EQ(args.sample_interval, 4096u);
  EXPECT_EQ(args.top, 3u);
  EXPECT_EQ(args.command, (Args{"ls", "-l", "--", "x"}));
}

// The one size syntax (proto/byte_size.h), for every flag and variable.
TEST(ParseByteSize, DigitsAndBinaryUnits) {
  const std::pair<const char*, uint64_t> good[] = {
      {"0", 0},
      {"4096", 4096},
      {"512K", 512ull << 10},
      {"512k", 512ull << 10},
      {"512KiB", 512ull << 10},
      {"64M", 64ull << 20},
      {"64MiB", 64ull << 20},
      {"2G", 2ull << 30},
      {"2g", 2ull << 30},
      {"3T", 3ull << 40},
      {"18446744073709551615", UINT64_MAX},
      {"16777215T", 16777215ull << 40},
  };
  for (const auto& [text, bytes] : good) {
    uint64_t v = 7;
    EXPECT_TRUE(leakscope::ParseByteSize(text, &v)) << text;
    EXPECT_EQ(v, bytes) << text;
  }
  for (const char* bad : {"", "K", "-1", " 1", "1 ", "1.5M", "64KB", "64Kib", "64X", "1KK",
                          "18446744073709551616", "16777216T", "0x10"}) {
    uint64_t v = 7;
    EXPECT_FALSE(leakscope::ParseByteSize(bad, &v)) << bad;
    EXPECT_EQ(v, 7u) << bad;
  }
}

TEST(ParseRunArgs, SampleIntervalTakesUnits) {
  RunArgs args;
  std::string error;
  ASSERT_EQ(ParseRunArgs({"--sample-interval", "512K", "ls"}, &args, &error), ParseOutcome::kOk)
      << error;
  EXPECT_EQ(args.sample_interval, 512u * 1024);
}

TEST(ParseRunArgs, CommandWithoutDoubleDashAndDefaults) {
  RunArgs args;
  std::string error;
  ASSERT_EQ(ParseRunArgs({"./app", "--flag"}, &args, &error), ParseOutcome::kOk);
  EXPECT_EQ(args.output_dir, ".");
  EXPECT_EQ(args.sample_interval, 0u);
  EXPECT_EQ(args.top, 10u);
  EXPECT_EQ(args.command, (Args{"./app", "--flag"}));
}

TEST(ParseRunArgs, Errors) {
  const std::pair<Args, std::string> cases[] = {
      {{}, "no command given"},
      {{"--"}, "no command given"},
      {{"-o", "d"}, "no command given"},
      {{"--frobnicate", "--", "ls"}, "unknown option '--frobnicate' (see 'leakscope run --help')"},
      {{"-o"}, "option '-o' needs a value"},
      {{"--top", "0", "ls"}, "option '--top' needs a whole number >= 1, got '0'"},
      {{"--sample-interval", "4kb", "ls"},
       "option '--sample-interval' needs a size in bytes >= 1 (e.g. 4096, 512K, 64M, 2G), got "
       "'4kb'"},
      {{"--sample-interval", "0K", "ls"},
       "option '--sample-interval' needs a size in bytes >= 1 (e.g. 4096, 512K, 64M, 2G), got "
       "'0K'"},
  };
  for (const auto& [argv, message] : cases) {
    RunArgs args;
    std::string error;
    EXPECT_EQ(ParseRunArgs(argv, &args, &error), ParseOutcome::kError) << message;
    EXPECT_EQ(error, message);
  }
}

TEST(ParseRunArgs, HelpBeforeTheCommandOnly) {
  RunArgs args;
  std::string error;
  EXPECT_EQ(ParseRunArgs({"--help"}, &args, &error), ParseOutcome::kHelp);
  EXPECT_EQ(ParseRunArgs({"--", "ls", "--help"}, &args, &error), ParseOutcome::kOk);
  EXPECT_EQ(args.command, (Args{"ls", "--help"}));
}

TEST(ParseReportArgs, FileTopJson) {
  ReportArgs args;
  std::string error;
  ASSERT_EQ(ParseReportArgs({"--json", "a.lsr", "--top=5"}, &args, &error), ParseOutcome::kOk);
  EXPECT_EQ(args.file, "a.lsr");
  EXPECT_EQ(args.top, 5u);
  EXPECT_TRUE(args.json);
}

TEST(ParseReportArgs, Errors) {
  const std::pair<Args, std::string> cases[] = {
      {{}, "no report file given"},
      {{"a.lsr", "b.lsr"}, "one report file at a time (got 'a.lsr' and 'b.lsr')"},
      {{"a.lsr", "--xml"}, "unknown option '--xml' (see 'leakscope report --help')"},
      {{"a.lsr", "--top"}, "option '--top' needs a value"},
      {{"a.lsr", "--top", "-3"}, "option '--top' needs a whole number >= 1, got '-3'"},
  };
  for (const auto& [argv, message] : cases) {
    ReportArgs args;
    std::string error;
    EXPECT_EQ(ParseReportArgs(argv, &args, &error), ParseOutcome::kError) << message;
    EXPECT_EQ(error, message);
  }
}

}  // namespace
}  // namespace leakscope::viewer
