// The built `leakscope` binary on bad input: one clear line, the right exit
// status, never a crash.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <random>

#include "cli_runner.h"
#include "json_report.h"
#include "report_file.h"
#include "sample_reports.h"
#include "text_report.h"

namespace leakscope::viewer {
namespace {

using testing::CliResult;
using testing::ReadFile;
using testing::RunLeakscope;
using testing::TempDir;
using testing::WriteFile;

std::string U32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}

class CliTest : public ::testing::Test {
 protected:
  std::string WriteValidReport() {
    const std::string path = dir_.path() + "/server.4242.lsr";
    std::string error;
    EXPECT_TRUE(report::WriteReportFile(path, testing::ServerReport(), &error)) << error;
    return path;
  }
  void ExpectFailure(const std::vector<std::string>& args, int status, const std::string& err,
                     const std::vector<std::string>& env = {}) {
    const CliResult r = RunLeakscope(args, env);
    EXPECT_EQ(r.exit_status, status);
    EXPECT_EQ(r.err, err);
    EXPECT_EQ(r.out, "");
  }
  TempDir dir_;
};

TEST_F(CliTest, ReportOfValidFileMatchesTheRenderers) {
  const std::string path = WriteValidReport();
  const CliResult text = RunLeakscope({"report", path});
  EXPECT_EQ(text.exit_status, 0);
  EXPECT_EQ(text.out, RenderTextReport(testing::ServerReport(), TextOptions{}));  // not a tty
  EXPECT_EQ(text.err, "");
  const CliResult json = RunLeakscope({"report", path, "--json", "--top", "1"});
  EXPECT_EQ(json.exit_status, 0);
  EXPECT_EQ(json.out, RenderJsonReport(testing::ServerReport(), 1));
}

TEST_F(CliTest, ReportMissingFile) {
  const std::string path = dir_.path() + "/missing.lsr";
  ExpectFailure({"report", path}, 2,
                "leakscope report: " + path + ": cannot open: No such file or directory\n");
}

TEST_F(CliTest, ReportTruncatedFile) {
  const std::string path = WriteValidReport();
  const std::string data = ReadFile(path);
  WriteFile(path, data.substr(0, data.size() - 5));
  ExpectFailure({"report", path, "--json"}, 2,
                "leakscope report: " + path + ": truncated or padded (expected " +
                    std::to_string(data.size()) + " bytes, found " +
                    std::to_string(data.size() - 5) + ")\n");
}

TEST_F(CliTest, ReportRandomBytes) {
  std::mt19937 rng(42);
  std::string data(1000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  const std::string path = dir_.path() + "/random.lsr";
  WriteFile(path, data);
  ExpectFailure({"report", path}, 2,
                "leakscope report: " + path + ": not a leakscope report (bad header)\n");
}

TEST_F(CliTest, ReportEmptyFile) {
  const std::string path = dir_.path() + "/empty.lsr";
  WriteFile(path, "");
  ExpectFailure({"report", path}, 2,
                "leakscope report: " + path + ": not a leakscope report (bad header)\n");
}

TEST_F(CliTest, ReportFlippedPayloadByte) {
  const std::string path = WriteValidReport();
  std::string data = ReadFile(path);
  data[data.size() / 2] ^= 0x20;  // in the payload: the header is 24 bytes
  WriteFile(path, data);
  ExpectFailure({"report", path}, 2,
                "leakscope report: " + path + ": corrupt (checksum mismatch)\n");
}

TEST_F(CliTest, ReportValidHeaderUndecodablePayload) {
  // A correct header and checksum around bytes that are not a Report: a
  // field tag whose varint never ends.
  const std::string payload = "\xff\xff\xff";
  const uint32_t crc = static_cast<uint32_t>(
      crc32(0, reinterpret_cast<const Bytef*>(payload.data()), static_cast<uInt>(payload.size())));
  const std::string path = dir_.path() + "/undecodable.lsr";
  WriteFile(path, "LSKR" + U32(1) + U32(3) + U32(0) + U32(crc) + U32(0) + payload);
  ExpectFailure({"report", path}, 2,
                "leakscope report: " + path + ": corrupt (cannot decode report)\n");
}

TEST_F(CliTest, ReportOtherVersion) {
  const std::string path = dir_.path() + "/v9.lsr";
  WriteFile(path, "LSKR" + U32(9) + std::string(16, '\0'));
  ExpectFailure({"report", path}, 2,
                "leakscope report: " + path + ": unsupported report format version 9\n");
}

TEST_F(CliTest, ReportOfDirectoryOrDevice) {
  ExpectFailure({"report", dir_.path()}, 2,
                "leakscope report: " + dir_.path() + ": not a regular file\n");
  ExpectFailure({"report", "/dev/zero"}, 2, "leakscope report: /dev/zero: not a regular file\n");
}

TEST_F(CliTest, ReportBadArguments) {
  ExpectFailure({"report"}, 2, "leakscope report: no report file given\n");
  ExpectFailure({"report", "x.lsr", "--yaml"}, 2,
                "leakscope report: unknown option '--yaml' (see 'leakscope report --help')\n");
  ExpectFailure({"report", "x.lsr", "--top", "zero"}, 2,
                "leakscope report: option '--top' needs a whole number >= 1, got 'zero'\n");
}

TEST_F(CliTest, RunWithoutCommand) {
  ExpectFailure({"run"}, 2, "leakscope run: no command given\n");
  ExpectFailure({"run", "-o", dir_.path(), "--"}, 2, "leakscope run: no command given\n");
}

TEST_F(CliTest, RunUnknownFlag) {
  ExpectFailure({"run", "--bogus", "--", "true"}, 2,
                "leakscope run: unknown option '--bogus' (see 'leakscope run --help')\n");
}

// A missing folder is created (run_end_to_end_test); one that cannot be is a
// one-line error before the command starts. The fake shim is never loaded.
TEST_F(CliTest, RunOutputDirectoryThatCannotBeCreated) {
  const std::string fake_shim = dir_.path() + "/fake.so";
  WriteFile(fake_shim, "");
  const std::string under_file = fake_shim + "/reports";
  ExpectFailure({"run", "-o", under_file, "--", "true"}, 2,
                "leakscope run: output directory '" + under_file + "': Not a directory\n",
                {"LEAKSCOPE_PRELOAD=" + fake_shim});
  // A dangling symbolic link on the way: mkdir cannot go through it.
  const std::string dangling = dir_.path() + "/gone";
  ASSERT_EQ(symlink("/nonexistent/leakscope-test", dangling.c_str()), 0);
  const std::string through = dangling + "/reports";
  ExpectFailure({"run", "-o", through, "--", "true"}, 2,
                "leakscope run: cannot create output directory '" + through +
                    "': No such file or directory\n",
                {"LEAKSCOPE_PRELOAD=" + fake_shim});
  ExpectFailure({"run", "-o", fake_shim, "--", "true"}, 2,
                "leakscope run: output directory '" + fake_shim + "' is not a directory\n",
                {"LEAKSCOPE_PRELOAD=" + fake_shim});
}

// No shim, no run: and no folder made for it.
TEST_F(CliTest, RunWithoutShimCreatesNoOutputDirectory) {
  const std::string missing = dir_.path() + "/reports";
  ExpectFailure({"run", "-o", missing, "--", "true"}, 2,
                "leakscope run: LEAKSCOPE_PRELOAD='/nonexistent/libleakscope.so' is not a "
                "readable file\n",
                {"LEAKSCOPE_PRELOAD=/nonexistent/libleakscope.so"});
  EXPECT_TRUE(dir_.Files().empty());
}

TEST_F(CliTest, RunMissingShim) {
  ExpectFailure({"run", "--", "true"}, 2,
                "leakscope run: LEAKSCOPE_PRELOAD='/nonexistent/libleakscope.so' is not a "
                "readable file\n",
                {"LEAKSCOPE_PRELOAD=/nonexistent/libleakscope.so"});
}

// The command is never executed, so any readable file stands in for the shim.
TEST_F(CliTest, RunNonexistentCommand) {
  const std::string fake_shim = dir_.path() + "/fake.so";
  WriteFile(fake_shim, "");
  ExpectFailure(
      {"run", "-o", dir_.path(), "--", "leakscope-no-such-command", "arg"}, 127,
      "leakscope run: cannot execute 'leakscope-no-such-command': No such file or directory\n",
      {"LEAKSCOPE_PRELOAD=" + fake_shim});
  EXPECT_EQ(dir_.Files(), (std::vector<std::string>{"fake.so"}));  // no report for a non-start
}

TEST_F(CliTest, RunNotExecutable) {
  const std::string fake_shim = dir_.path() + "/fake.so";
  const std::string script = dir_.path() + "/script.sh";
  WriteFile(fake_shim, "");
  WriteFile(script, "#!/bin/sh\nexit 0\n");
  ASSERT_EQ(chmod(script.c_str(), 0644), 0);
  ExpectFailure({"run", "-o", dir_.path(), "--", script}, 127,
                "leakscope run: cannot execute '" + script + "': Permission denied\n",
                {"LEAKSCOPE_PRELOAD=" + fake_shim});
}

TEST_F(CliTest, TopLevel) {
  const CliResult version = RunLeakscope({"--version"});
  EXPECT_EQ(version.exit_status, 0);
  EXPECT_EQ(version.out, "leakscope " LEAKSCOPE_VERSION "\n");
  const std::vector<std::vector<std::string>> helps = {
      {"--help"}, {"run", "--help"}, {"report", "--help"}};
  for (const auto& help : helps) {
    const CliResult r = RunLeakscope(help);
    EXPECT_EQ(r.exit_status, 0) << help[0];
    EXPECT_EQ(r.out.rfind("usage: leakscope ", 0), 0u) << help[0];
  }
  ExpectFailure({"frobnicate"}, 2,
                "leakscope: unknown command 'frobnicate' (see 'leakscope --help')\n");
  const CliResult bare = RunLeakscope({});
  EXPECT_EQ(bare.exit_status, 2);
  EXPECT_EQ(bare.err.rfind("usage: leakscope ", 0), 0u);
}

}  // namespace
}  // namespace leakscope::viewer
