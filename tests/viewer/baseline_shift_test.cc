// `check --baseline` and `diff` on two builds of one program, the second
// after an edit that moved its leaks' lines (shifted_leak.c): the same sites,
// nothing new, the gate passes. A leak really added in the same function is
// new.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli_runner.h"

namespace leakscope::viewer {
namespace {

using testing::CliResult;
using testing::RunLeakscope;
using testing::TempDir;

// Runs `program` under leakscope: its one report's path.
std::string ReportOf(const std::vector<std::string>& command, const TempDir& out) {
  std::vector<std::string> args = {"run", "-o", out.path(), "--"};
  args.insert(args.end(), command.begin(), command.end());
  const CliResult r = RunLeakscope(args);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  const std::vector<std::string> files = out.Files();
  EXPECT_EQ(files.size(), 1u);
  return files.empty() ? "" : out.path() + "/" + files[0];
}

TEST(BaselineShift, LinesMovedByAnEditAreTheSameSites) {
  TempDir base_dir, edited_dir;
  const std::string base = ReportOf({SHIFT_BASE}, base_dir);
  const std::string edited = ReportOf({SHIFT_EDITED}, edited_dir);

  const CliResult gate = RunLeakscope({"check", edited, "--baseline", base, "--max-growth", "0"});
  EXPECT_EQ(gate.exit_status, 0) << gate.out << gate.err;
  const CliResult diff = RunLeakscope({"diff", base, edited});
  EXPECT_EQ(diff.exit_status, 0) << diff.err;
  EXPECT_EQ(diff.out.find("NEW"), std::string::npos) << diff.out;
  EXPECT_EQ(diff.out.find("GONE"), std::string::npos) << diff.out;
}

TEST(BaselineShift, ALeakAddedInTheSameFunctionIsNew) {
  TempDir base_dir, edited_dir;
  const std::string base = ReportOf({SHIFT_BASE}, base_dir);
  const std::string edited = ReportOf({SHIFT_EDITED, "extra"}, edited_dir);

  CliResult gate = RunLeakscope({"check", edited, "--baseline", base, "--max-growth", "299"});
  EXPECT_EQ(gate.exit_status, 1) << gate.out << gate.err;
  EXPECT_NE(gate.out.find("    +300 B (300 bytes) (new site) at leak_twice"), std::string::npos)
      << gate.out;
  EXPECT_EQ(gate.out.find("+100 B"), std::string::npos) << gate.out;
  EXPECT_EQ(gate.out.find("+200 B"), std::string::npos) << gate.out;
  // Per function, leak_twice grew by exactly 300 B.
  gate = RunLeakscope(
      {"check", edited, "--baseline", base, "--by", "function", "--max-growth", "300"});
  EXPECT_EQ(gate.exit_status, 0) << gate.out << gate.err;
  const CliResult diff = RunLeakscope({"diff", base, edited, "--by", "function"});
  EXPECT_EQ(diff.exit_status, 0) << diff.err;
  EXPECT_EQ(diff.out.find("NEW"), std::string::npos) << diff.out;
}

}  // namespace
}  // namespace leakscope::viewer
