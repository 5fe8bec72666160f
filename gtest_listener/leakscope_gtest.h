// Leak checks for GoogleTest suites. When the test binary runs under the
// leakscope shim (`leakscope run -- ./tests`, or LD_PRELOAD + LEAKSCOPE_SOCKET),
// every test whose body leaves alive allocations it made fails, and the
// failure names the call sites. Without the shim it does nothing.
//
//   int main(int argc, char** argv) {
//     testing::InitGoogleTest(&argc, argv);
//     leakscope::gtest::InstallLeakCheck();
//     return RUN_ALL_TESTS();
//   }
//
// or link leakscope::gtest_main instead of GTest::gtest_main.
//
// Inside a test: leakscope::gtest::SetLeakBudget(bytes) tolerates up to
// `bytes`; leakscope::gtest::AllowLeaksIn("Cache::Put") leaves out sites
// whose stack passes through a function whose name contains that text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace leakscope::gtest {

struct Options {
  // Live bytes a test may leave behind (every test).
  uint64_t budget_bytes = 0;
  // Sites with a frame (inner to the test runner's) in a function whose name
  // contains one of these are not leaks. Added to kDefaultAllowed.
  std::vector<std::string> allow_functions;
  // Call sites listed in a failure message.
  uint32_t max_sites = 5;
};

// One-time caches of the C and C++ runtimes and of GoogleTest itself that a
// test may be first to fill (stdio buffers, time zone, locale, ...).
extern const char* const kDefaultAllowed[];

// Options from the environment, on top of `base`:
//   LEAKSCOPE_GTEST_BUDGET=SIZE (4096, 512K, 64M: binary units),
//   LEAKSCOPE_GTEST_ALLOW=func1,func2
// A budget that cannot be read is a one-line error on stderr and exit(2).
Options OptionsFromEnvironment(Options base = {});

// Appends the listener to GoogleTest's (after InitGoogleTest). Returns false
// and installs nothing if the program runs without the shim.
bool InstallLeakCheck(const Options& options = OptionsFromEnvironment());

// For the running test only.
void SetLeakBudget(uint64_t bytes);
void AllowLeaksIn(const std::string& function);

}  // namespace leakscope::gtest
