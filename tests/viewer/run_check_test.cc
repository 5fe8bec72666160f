// `leakscope run --check`: run and gate in one step. leaky_child leaks
// exactly 10 x 100 B (leak_hundreds), everything else it frees.
#include <gtest/gtest.h>

#include "cli_runner.h"

namespace leakscope::viewer {
namespace {

using testing::CliResult;
using testing::RunLeakscope;
using testing::TempDir;

TEST(RunCheck, GateDecidesWhenTheCommandSucceeded) {
  TempDir out;
  CliResult r = RunLeakscope(
      {"run", "-o", out.path(), "--check", "--max-leaked", "1000", "--", LEAKY_CHILD, "exit0"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.err.find("leakscope run --check: OK: 1000 B (1,000 bytes) leaked in 1 site"),
            std::string::npos)
      << r.err;
  r = RunLeakscope(
      {"run", "-o", out.path(), "--check", "--max-leaked", "999", "--", LEAKY_CHILD, "exit0"});
  EXPECT_EQ(r.exit_status, 1);
  EXPECT_NE(r.err.find("    1000 B (1,000 bytes) in 10 allocations at leak_hundreds"),
            std::string::npos)
      << r.err;
}

TEST(RunCheck, CommandFailureWinsOverTheGate) {
  TempDir out;
  const CliResult r =
      RunLeakscope({"run", "-o", out.path(), "--check", "--", LEAKY_CHILD, "exit3"});
  EXPECT_EQ(r.exit_status, 3);
}

TEST(RunCheck, LimitsNeedCheck) {
  const CliResult r = RunLeakscope({"run", "--max-leaked", "1", "--", LEAKY_CHILD, "exit0"});
  EXPECT_EQ(r.exit_status, 2);
  EXPECT_EQ(r.err, "leakscope run: option '--max-leaked' needs --check\n");
}

}  // namespace
}  // namespace leakscope::viewer
