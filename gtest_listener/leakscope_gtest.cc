// The listener marks the event stream as each test starts and, when it ends
// (after its fixture is destroyed), asks the collector what of the test's
// allocations is still alive. GoogleTest calls OnTestEnd in reverse order of
// installation and before it forgets the current test, so a failure added
// here belongs to the test and is printed with it.
#include "leakscope_gtest.h"

#include <gtest/gtest.h>
#include <leakscope.h>

#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "byte_size.h"

namespace leakscope::gtest {

const char* const kDefaultAllowed[] = {
    "_IO_file_doallocate",  // stdio buffers, once per stream
    "__tzfile_read",
    "tzset_internal",
    "__cxa_get_globals",
    "__cxa_thread_atexit",
    "std::locale",
    "_dl_",       // loader and thread-local storage
    "testing::",  // GoogleTest's own records (inner to the test body)
    nullptr};

namespace {

// Frames from here outwards are the test runner's: allow-list entries are
// matched only inside them, or "testing::" would allow everything.
const char* const kRunnerFrames[] = {"testing::internal::HandleSehExceptionsInMethodIfSupported",
                                     "testing::internal::HandleExceptionsInMethodIfSupported",
                                     "testing::Test::Run", nullptr};

std::string Describe(const leakscope_live& live, uint64_t budget) {
  std::ostringstream out;
  out << "leakscope: this test leaked " << live.bytes << " bytes in " << live.allocations
      << " allocation" << (live.allocations == 1 ? "" : "s");
  if (live.estimated) out << " (estimated: sampled mode)";
  if (budget) out << ", budget " << budget << " bytes";
  out << "\n";
  for (uint32_t i = 0; i < live.site_count; ++i) {
    const leakscope_site& s = live.sites[i];
    out << "  " << s.bytes << " bytes in " << s.allocations << " from "
        << (s.function[0] ? s.function : "?");
    if (s.file[0]) out << " at " << s.file << ":" << s.line;
    out << "\n";
  }
  return out.str();
}

// Said once per run: a collector that is gone stays gone.
void Unavailable(int status, const char* error) {
  static bool said = false;
  if (said) return;
  said = true;
  static const char* const kWhy[] = {"", "the shim is not recording", "no collector connection",
                                     "the collector did not answer in time", "collector error: "};
  std::fprintf(stderr, "leakscope: leak check unavailable, tests are not checked: %s%s\n",
               status > 0 && status < 5 ? kWhy[status] : "?", error);
}

class LeakListener : public ::testing::EmptyTestEventListener {
 public:
  explicit LeakListener(Options options) : options_(std::move(options)) {}

  void OnTestStart(const ::testing::TestInfo&) override {
    test_budget_ = options_.budget_bytes;
    test_allowed_.clear();
    mark_ = leakscope_mark();
  }

  void OnTestEnd(const ::testing::TestInfo& test) override {
    if (mark_.status != LEAKSCOPE_OK) return Unavailable(mark_.status, "");
    leakscope_pause();  // the check's own allocations are not the test's
    std::vector<const char*> allow;
    for (const char* const* a = kDefaultAllowed; *a; ++a) allow.push_back(*a);
    for (const auto& a : options_.allow_functions) allow.push_back(a.c_str());
    for (const auto& a : test_allowed_) allow.push_back(a.c_str());
    allow.push_back(nullptr);
    leakscope_live_options options{allow.data(), kRunnerFrames, options_.max_sites};
    leakscope_live live;
    const int status = leakscope_live_since(mark_, &options, &live);
    leakscope_resume();
    if (status != LEAKSCOPE_OK) return Unavailable(status, live.error);
    // At the test's own file and line (its TEST macro), where a reader and
    // an IDE look, not at this file.
    if (live.bytes > test_budget_)
      ADD_FAILURE_AT(test.file(), test.line()) << Describe(live, test_budget_);
  }

  uint64_t test_budget_ = 0;
  std::vector<std::string> test_allowed_;

 private:
  Options options_;
  leakscope_mark_t mark_{0, LEAKSCOPE_NOT_ACTIVE};
};

LeakListener* g_listener = nullptr;

}  // namespace

Options OptionsFromEnvironment(Options base) {
  if (const char* b = std::getenv("LEAKSCOPE_GTEST_BUDGET")) {
    // A budget that cannot be read stops the run: any other value would
    // pass or fail tests on a number nobody asked for.
    if (!ParseByteSize(b, &base.budget_bytes)) {
      std::fprintf(stderr, "leakscope: LEAKSCOPE_GTEST_BUDGET='%s' is not a size (e.g. %s)\n", b,
                   kByteSizeExamples);
      std::exit(2);
    }
  }
  if (const char* a = std::getenv("LEAKSCOPE_GTEST_ALLOW")) {
    std::istringstream in(a);
    for (std::string item; std::getline(in, item, ',');)
      if (!item.empty()) base.allow_functions.push_back(item);
  }
  return base;
}

bool InstallLeakCheck(const Options& options) {
  if (g_listener || !leakscope_active()) return false;
  g_listener = new LeakListener(options);
  // Appended last: OnTestEnd runs before the result printer's (reverse order).
  ::testing::UnitTest::GetInstance()->listeners().Append(g_listener);
  return true;
}

void SetLeakBudget(uint64_t bytes) {
  if (g_listener) g_listener->test_budget_ = bytes;
}

void AllowLeaksIn(const std::string& function) {
  if (!g_listener) return;
  leakscope_pause();  // the list's memory is the check's, not the test's
  g_listener->test_allowed_.push_back(function);
  leakscope_resume();
}

}  // namespace leakscope::gtest
